// Softmax + masked cross-entropy + reduction + dlogits in one pass, CPU
// reference. For a row r with label y >= 0 and row_scale s_r != 0
// (PyTorch's definition, C classes, class weights w, smoothing eps):
//   lse    = log sum_c exp(z_c)          (max-shifted; exp(-inf) = 0)
//   nll_c  = lse - z_c                   (= -log p_c)
//   loss_r = (1-eps) * w_y * nll_y + (eps/C) * sum_c w_c * nll_c   (terms with w_c = 0 are 0)
//   dz_c   = s_r * ((1-eps) * w_y * (p_c - [c==y]) + (eps/C) * (W * p_c - w_c)),  W = sum_c w_c
// Every other row gets dlogits exactly 0 (selected, so garbage or -inf
// logits on pad rows cannot leak). The reduction lives in row_scale: the
// host sets s_r = 1 / (counted weight of the whole step) for token mean, 1
// for sum, 1 / (sequences * weight of r's sequence) for sequence mean, and
// 0 for rows that do not count; loss = sum_r s_r * loss_r.
#pragma once

#include <cstdint>

namespace seqcnn::cpu {

struct XentTotals {
  double loss = 0.0;     // sum_r s_r * loss_r (summed in a fixed order)
  int64_t counted = 0;   // rows with label >= 0 and s_r != 0
  int64_t correct = 0;   // of those, rows whose first argmax equals the label
};

// class_weights may be null (all 1); row_scale may be null (all 1, i.e. sum);
// dlogits may be null (forward only). A counted row whose label logit is -inf
// has loss +inf (never NaN). A label >= classes is an InputError.
template <class T>
XentTotals softmax_xent(int64_t rows, int classes, const T* logits, const int32_t* labels, const T* row_scale,
                        const T* class_weights, T label_smoothing, T* dlogits);

// Row-wise softmax probabilities (for predict).
template <class T>
void softmax_forward(int64_t rows, int classes, const T* logits, T* probabilities);

}  // namespace seqcnn::cpu
