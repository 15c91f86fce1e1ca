// Dense layer GEMMs. cuBLAS is column-major; a row-major [R][X] matrix is
// the column-major X x R matrix (its transpose) with leading dimension X.
// With that, each row-major product maps to one cublasSgemm:
//   logits[R][C] = h[R][J] W[C][J]^T  ->  logits^T (C x R) = op_T(W^T: J x C) * (h^T: J x R)
//       gemm(T, N, m=C, n=R, k=J, A=W lda=J, B=h ldb=J, C=logits ldc=C), beta 1 over the bias
//   dh[R][J] = dlogits[R][C] W[C][J]  ->  dh^T (J x R) = (W^T: J x C) * (dlogits^T: C x R)
//       gemm(N, N, m=J, n=R, k=C, A=W lda=J, B=dlogits ldb=C, C=dh ldc=J), beta 0
//   dW[C][J] += dlogits^T h          ->  dW^T (J x C) += (h^T: J x R) * op_T(dlogits^T: C x R)
//       gemm(N, T, m=J, n=C, k=R, A=h lda=J, B=dlogits ldb=C, C=dW ldc=J), beta 1
#include "dense.hpp"

#include <climits>
#include <string>

#include "check.hpp"
#include "reduce.hpp"

namespace seqcnn::cuda {
namespace {

__global__ void broadcast_rows_kernel(int64_t total, int cols, const float* __restrict__ row,
                                      float* __restrict__ out) {
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x)
    out[idx] = row[idx % cols];
}

// cublasSetStream also drops a workspace set with cublasSetWorkspace, so the
// stream is set only when it actually changes.
void use_stream(cublasHandle_t handle, cudaStream_t stream) {
  cudaStream_t current = nullptr;
  CUBLAS_CHECK(cublasGetStream(handle, &current));
  if (current != stream) CUBLAS_CHECK(cublasSetStream(handle, stream));
}

int gemm_dim(int64_t value, const char* what) {
  if (value > INT_MAX)
    throw DeviceError(std::string(what) + ": dimension " + std::to_string(value) + " exceeds cuBLAS's int range");
  return static_cast<int>(value);
}

}  // namespace

void dense_forward(cublasHandle_t handle, int64_t rows, int in_features, int classes, const float* h,
                   const float* weight, const float* bias, float* logits, cudaStream_t stream) {
  if (rows <= 0 || classes <= 0) return;
  const int n_rows = gemm_dim(rows, "dense_forward");
  const long long total = rows * classes;
  const long long capped = total < (1LL << 28) ? total : (1LL << 28);
  broadcast_rows_kernel<<<grid_for(capped, 256, "dense_forward"), 256, 0, stream>>>(total, classes, bias, logits);
  CUDA_CHECK_LAUNCH();
  if (in_features <= 0) return;
  use_stream(handle, stream);
  const float one = 1.0f;
  CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, classes, n_rows, in_features, &one, weight,
                           in_features, h, in_features, &one, logits, classes));
}

std::size_t dense_backward_workspace_bytes(int64_t rows, int classes) {
  return column_sums_workspace_bytes(rows, classes);
}

void dense_backward(cublasHandle_t handle, int64_t rows, int in_features, int classes, const float* h,
                    const float* weight, const float* dlogits, float* dh, float* dweight, float* dbias,
                    Workspace workspace, cudaStream_t stream) {
  if (rows <= 0) return;
  const int n_rows = gemm_dim(rows, "dense_backward");
  if (in_features > 0) {
    use_stream(handle, stream);
    const float one = 1.0f, zero = 0.0f;
    if (classes > 0) {
      CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, in_features, n_rows, classes, &one, weight,
                               in_features, dlogits, classes, &zero, dh, in_features));
      CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, in_features, classes, n_rows, &one, h,
                               in_features, dlogits, classes, &one, dweight, in_features));
    } else {
      CUDA_CHECK(cudaMemsetAsync(dh, 0, static_cast<std::size_t>(rows) * in_features * sizeof(float), stream));
    }
  }
  column_sums_accumulate(rows, classes, dlogits, dbias, workspace, stream);
}

}  // namespace seqcnn::cuda
