// seqcnn reports every failure to its caller as an exception derived from
// seqcnn::Error (a std::runtime_error); the message names the file, line or
// record, position and what was expected. The library never prints and never
// exits: the caller decides what a failure means.
//
// Why exceptions: failures start deep inside readers, planners and device
// code, far from the code that can act on them. An exception carries the
// precise message up, and RAII releases what was held on the way (buffers,
// device handles, temporary files), with no error codes threaded through
// every layer. Catch seqcnn::Error for all of them, or a subclass below to
// tell them apart. Anything else escaping the library is resource exhaustion
// (std::bad_alloc) or a bug.
#pragma once

#include <stdexcept>
#include <string>

namespace seqcnn {

// Base of every seqcnn failure; also thrown as is for I/O failures (a file
// that cannot be written, a directory that cannot be created).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Malformed or inconsistent input data (sequence files, token ids, labels).
class InputError : public Error {
 public:
  using Error::Error;
};

// A configuration that cannot be run (bad value, unknown option, 'valid' padding).
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A checkpoint that is truncated, corrupted or belongs to another model.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// A device-side failure (no GPU, CUDA/cuBLAS/cuDNN error, out of memory).
class DeviceError : public Error {
 public:
  using Error::Error;
};

// Training stopped on a non-finite loss or gradient norm.
class NumericalError : public Error {
 public:
  using Error::Error;
};

}  // namespace seqcnn
