// Conv1D ('same' padding, any kernel and dilation) with the fused epilogue,
// CPU reference. Weights are [K][I][O]: tap k is an I x O matrix, so the
// convolution is K shifted GEMMs over the packed rows.
//   forward, for rows r in [halo, rows - halo):
//     pre[r][o] = b[o] + sum_k sum_i W[k][i][o] * x[r + k*d - padL][i]
//     y[r][o]   = row r real ? dropout(relu(pre[r][o])) : 0   (selected, not multiplied)
//   epilogue backward, all rows:
//     dpre[r][o] = (row r real and y[r][o] > 0) ? dy[r][o] * keep_scale : 0
//   backward data, rows r in [halo, rows - halo):
//     dx[r][i] = sum_k sum_o W[k][i][o] * dpre[r - k*d + padL][o]
//   backward weight (accumulates):
//     dW[k][i][o] += sum_{r in [halo, rows-halo)} x[r + k*d - padL][i] * dpre[r][o]
//     db[o]       += sum_r dpre[r][o]
// Rows outside [halo, rows - halo) of y and dx are never written. row_is_real
// may be null (every row real). Work is split into fixed row chunks, so
// results do not depend on the thread count.
#pragma once

#include <cstdint>

#include "common/conv_shape.hpp"

namespace seqcnn::cpu {

template <class T>
void conv1d_forward(const Conv1dShape& shape, const T* x, const T* weight, const T* bias,
                    const uint8_t* row_is_real, const DropoutSpec& dropout, T* y);

template <class T>
void conv1d_epilogue_backward(int64_t rows, int channels, const T* y, const T* dy, const uint8_t* row_is_real,
                              T keep_scale, T* dpre);

template <class T>
void conv1d_backward_data(const Conv1dShape& shape, const T* weight, const T* dpre, T* dx);

template <class T>
void conv1d_backward_weight(const Conv1dShape& shape, const T* x, const T* dpre, T* dweight, T* dbias);

}  // namespace seqcnn::cpu
