// AdamW over the flat parameter buffer, CPU reference; the per-element
// update is math::adamw_element (shared with the CUDA kernel).
#pragma once

#include <cstdint>

namespace seqcnn::cpu {

// The flat buffer is [weights | embedding | biases]; each group has its own
// weight decay. grad_scale is the global-norm clip factor.
struct AdamWHyper {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  int64_t step = 1;  // t of this update (1 for the first)
  int64_t weights_end = 0;
  int64_t embedding_end = 0;
  double decay_weights = 0.0, decay_embedding = 0.0, decay_bias = 0.0;
  double grad_scale = 1.0;
};

template <class T>
void adamw_update(int64_t n, T* params, const T* grads, T* m, T* v, const AdamWHyper& hyper);

// sum_i g_i^2 in double, in fixed-size chunks summed in a fixed order, so the
// result does not depend on the thread count.
template <class T>
double sum_of_squares(int64_t n, const T* values);

}  // namespace seqcnn::cpu
