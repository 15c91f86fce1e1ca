// Conv1D ('same' padding, any kernel size, dilation and channel count) with
// the fused epilogue, on the GPU; twins of cpu::conv1d_* (src/cpu/conv1d.hpp
// holds the math). Weights are [K][I][O]; activations [rows][channels].
// Device pointers, one stream; rows outside [halo, rows - halo) of y and dx
// are never written.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "common/conv_shape.hpp"
#include "workspace.hpp"

namespace seqcnn::cuda {

// y = row real ? dropout(relu(b + conv(x, W))) : 0. When device_dropout_step
// is not null the dropout step is read from it (a replayed CUDA graph sees
// the current step) instead of dropout.step.
void conv1d_forward(const Conv1dShape& shape, const float* x, const float* weight, const float* bias,
                    const uint8_t* row_is_real, const DropoutSpec& dropout, float* y, cudaStream_t stream,
                    const uint64_t* device_dropout_step = nullptr);

// The epilogue alone on a precomputed convolution `pre` (bias not yet
// added), rows [halo, rows - halo): used with the cuDNN baseline.
void conv1d_bias_activation(const Conv1dShape& shape, const float* pre, const float* bias,
                            const uint8_t* row_is_real, const DropoutSpec& dropout, float* y, cudaStream_t stream);

// dpre = (row real and y > 0) ? dy * keep_scale : 0, all rows.
void conv1d_epilogue_backward(int64_t rows, int channels, const float* y, const float* dy,
                              const uint8_t* row_is_real, float keep_scale, float* dpre, cudaStream_t stream);

// dx[r][i] = sum_k sum_o W[k][i][o] * dpre[r - k*d + padL][o] (overwrites).
void conv1d_backward_data(const Conv1dShape& shape, const float* weight, const float* dpre, float* dx,
                          cudaStream_t stream);

std::size_t conv1d_backward_weight_workspace_bytes(const Conv1dShape& shape);

// dW += x^T dpre per tap, db += column sums of dpre (rows [halo, rows - halo)),
// as per-chunk partials summed in a fixed order: no atomics.
void conv1d_backward_weight(const Conv1dShape& shape, const float* x, const float* dpre, float* dweight,
                            float* dbias, Workspace workspace, cudaStream_t stream);

}  // namespace seqcnn::cuda
