// Dense layer over every row, CPU reference. W is [C][J] (PyTorch's Linear).
//   forward:  logits[r][c] = b[c] + sum_j W[c][j] * h[r][j]
//   backward: dh[r][j] = sum_c W[c][j] * dlogits[r][c]           (overwrites)
//             dW[c][j] += sum_r dlogits[r][c] * h[r][j];  db[c] += sum_r dlogits[r][c]
// Rows whose dlogits are zero (gaps, masked labels) contribute nothing.
#pragma once

#include <cstdint>

namespace seqcnn::cpu {

template <class T>
void dense_forward(int64_t rows, int in_features, int classes, const T* h, const T* weight, const T* bias,
                   T* logits);

template <class T>
void dense_backward(int64_t rows, int in_features, int classes, const T* h, const T* weight, const T* dlogits,
                    T* dh, T* dweight, T* dbias);

}  // namespace seqcnn::cpu
