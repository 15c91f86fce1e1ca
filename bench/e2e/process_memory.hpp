// Peak memory of this process, for the end-to-end benchmark's memory
// columns: host RSS on every build, device memory in use on CUDA builds.
#pragma once

#include <cstdint>

namespace seqcnn::bench {

// The largest resident set this process has had so far (getrusage), in bytes.
int64_t peak_host_rss_bytes();

// Starts a new high-water mark of the resident set (Linux: clear_refs 5), so
// that training_peak_host_rss_bytes() sees only what comes after, e.g. the
// training steps without the transient of reading the data. It resets
// getrusage's peak as well: read peak_host_rss_bytes() first. False where
// the kernel does not offer it.
bool reset_host_rss_peak();

// The resident set's high-water mark since the last reset (VmHWM), in bytes;
// -1 where /proc does not say.
int64_t training_peak_host_rss_bytes();

// Bytes of device memory in use on the current GPU (total - free, so every
// allocation of every library counts: cuBLAS and cuDNN workspaces, CUB
// scratch, CUDA graphs), or -1 in a build without CUDA or without a device.
// The benchmark subtracts the reading taken after the CUDA context exists
// and before the trainer allocates, which leaves the context itself out,
// as PyTorch's max_memory_allocated() does.
int64_t device_bytes_in_use();

}  // namespace seqcnn::bench
