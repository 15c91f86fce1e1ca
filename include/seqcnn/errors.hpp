// seqcnn reports every failure to its caller as an exception derived from
// seqcnn::Error; the message names the file, line or record, position and
// what was expected. The library never prints and never exits.
#pragma once

#include <stdexcept>
#include <string>

namespace seqcnn {

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
