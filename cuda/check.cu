// Error reporting for the checked-call macros and the allocation helpers.
#include "check.hpp"

#include <unistd.h>

#include <string>

#include "seqcnn/errors.hpp"

namespace seqcnn::cuda {
namespace detail {
namespace {

std::string where(const char* call, const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line) + ": " + call;
}

}  // namespace

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  throw DeviceError(where(call, file, line) + " failed: " + cudaGetErrorName(status) + " (" +
                    cudaGetErrorString(status) + ")");
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw DeviceError(where(call, file, line) + " failed: " + cublasGetStatusName(status) + " (" +
                    cublasGetStatusString(status) + ")");
}

void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  throw DeviceError(where(call, file, line) + " failed: " + cudnnGetErrorString(status));
}

}  // namespace detail

namespace {

std::string device_free_text() {
  std::size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    (void)cudaGetLastError();
    return "device memory free: unknown";
  }
  return "device memory free: " + std::to_string(free_bytes) + " of " + std::to_string(total_bytes) + " bytes";
}

// Page-locked memory comes out of host RAM, so that is what is reported.
std::string host_free_text() {
  const long pages = sysconf(_SC_AVPHYS_PAGES), page_bytes = sysconf(_SC_PAGESIZE);
  if (pages < 0 || page_bytes < 0) return "host memory available: unknown";
  return "host memory available: " + std::to_string(static_cast<unsigned long long>(pages) * page_bytes) + " bytes";
}

[[noreturn]] void throw_out_of_memory(const char* kind, std::size_t bytes, const char* what,
                                      const std::string& free_text) {
  throw DeviceError(std::string("out of ") + kind + " memory allocating " + std::to_string(bytes) + " bytes for " +
                    what + " (" + free_text + ")");
}

}  // namespace

void* device_allocate(std::size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // the failed allocation left an error behind; it is reported here
    throw_out_of_memory("device", bytes, what, device_free_text());
  }
  if (status != cudaSuccess)
    detail::throw_cuda_error(status, (std::string("cudaMalloc for ") + what).c_str(), __FILE__, __LINE__);
  return pointer;
}

void* pinned_allocate(std::size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* pointer = nullptr;
  const cudaError_t status = cudaMallocHost(&pointer, bytes);
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    throw_out_of_memory("pinned host", bytes, what, host_free_text());
  }
  if (status != cudaSuccess)
    detail::throw_cuda_error(status, (std::string("cudaMallocHost for ") + what).c_str(), __FILE__, __LINE__);
  return pointer;
}

unsigned grid_for(long long items, int block, const char* what) {
  if (items <= 0) return 0;
  const long long blocks = (items + block - 1) / block;
  if (blocks > 0x7fffffffLL)
    throw DeviceError(std::string("launch of ") + what + " needs " + std::to_string(blocks) +
                      " blocks, more than the grid allows");
  return static_cast<unsigned>(blocks);
}

}  // namespace seqcnn::cuda
