// Dense layer over every row through cuBLAS; twins of cpu::dense_* (the
// math is in src/cpu/dense.hpp). W is [C][J] row-major (PyTorch's Linear).
// The handle should come from CublasHandle (default math: no TF32; no
// atomics), which keeps the GEMMs bitwise reproducible on a given GPU.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "workspace.hpp"

namespace seqcnn::cuda {

// logits[r][c] = b[c] + sum_j W[c][j] * h[r][j], all rows.
void dense_forward(cublasHandle_t handle, int64_t rows, int in_features, int classes, const float* h,
                   const float* weight, const float* bias, float* logits, cudaStream_t stream);

std::size_t dense_backward_workspace_bytes(int64_t rows, int classes);

// dh = dlogits W (overwrites); dW += dlogits^T h; db += column sums of dlogits.
void dense_backward(cublasHandle_t handle, int64_t rows, int in_features, int classes, const float* h,
                    const float* weight, const float* dlogits, float* dh, float* dweight, float* dbias,
                    Workspace workspace, cudaStream_t stream);

}  // namespace seqcnn::cuda
