// Checked CUDA, cuBLAS and cuDNN calls: every failure becomes a
// seqcnn::DeviceError naming the file, the line, the call and the library's
// own error string, so a failing kernel is found where it was launched.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>

namespace seqcnn::cuda::detail {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line);

}  // namespace seqcnn::cuda::detail

#define CUDA_CHECK(call)                                                               \
  do {                                                                                 \
    const cudaError_t seqcnn_status_ = (call);                                         \
    if (seqcnn_status_ != cudaSuccess)                                                 \
      ::seqcnn::cuda::detail::throw_cuda_error(seqcnn_status_, #call, __FILE__, __LINE__); \
  } while (0)

#define CUBLAS_CHECK(call)                                                               \
  do {                                                                                   \
    const cublasStatus_t seqcnn_status_ = (call);                                        \
    if (seqcnn_status_ != CUBLAS_STATUS_SUCCESS)                                         \
      ::seqcnn::cuda::detail::throw_cublas_error(seqcnn_status_, #call, __FILE__, __LINE__); \
  } while (0)

#define CUDNN_CHECK(call)                                                               \
  do {                                                                                  \
    const cudnnStatus_t seqcnn_status_ = (call);                                        \
    if (seqcnn_status_ != CUDNN_STATUS_SUCCESS)                                         \
      ::seqcnn::cuda::detail::throw_cudnn_error(seqcnn_status_, #call, __FILE__, __LINE__); \
  } while (0)

// After every kernel launch: a bad launch configuration is reported here, at
// the launch, instead of at some later unrelated call.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

namespace seqcnn::cuda {

// cudaMalloc that throws a DeviceError saying what was being allocated, how
// many bytes were asked and how many the device had free.
void* device_allocate(std::size_t bytes, const char* what);
// cudaMallocHost (page-locked host memory, for asynchronous copies).
void* pinned_allocate(std::size_t bytes, const char* what);

// Launch grids: ceil(n / block) with a DeviceError instead of an overflow.
unsigned grid_for(long long items, int block, const char* what);

}  // namespace seqcnn::cuda
