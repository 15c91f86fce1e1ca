#include "process_memory.hpp"

#include <sys/resource.h>

#include <fstream>
#include <string>

#ifdef SEQCNN_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace seqcnn::bench {

int64_t peak_host_rss_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

bool reset_host_rss_peak() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

int64_t training_peak_host_rss_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
  return -1;
}

int64_t device_bytes_in_use() {
#ifdef SEQCNN_HAVE_CUDA
  std::size_t free_bytes = 0, total_bytes = 0;
  // The first call creates the context; a failure (no device) reads as -1.
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    (void)cudaGetLastError();
    return -1;
  }
  return static_cast<int64_t>(total_bytes - free_bytes);
#else
  return -1;
#endif
}

}  // namespace seqcnn::bench
