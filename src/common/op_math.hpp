// Per-element math that the CPU reference and the CUDA kernels share, written
// once so the two backends cannot drift apart.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/host_device.hpp"
#include "common/philox.hpp"

namespace seqcnn::math {

// --- convolution geometry ------------------------------------------------
// 'same' padding: total d*(K-1) zeros, floor half on the left, the odd extra
// on the right (PyTorch padding='same' and TensorFlow agree).
SEQCNN_HD int conv_pad_left(int kernel, int dilation) { return dilation * (kernel - 1) / 2; }
SEQCNN_HD int conv_reach_right(int kernel, int dilation) {
  return dilation * (kernel - 1) - conv_pad_left(kernel, dilation);
}

// --- AdamW (PyTorch torch.optim.AdamW, single-tensor path, same op order) ---
struct AdamWStep {
  float lr;
  float beta1, beta2, eps;
  float bias_correction1;       // 1 - beta1^t
  float bias_correction2_sqrt;  // sqrt(1 - beta2^t)
};

// One parameter: decoupled decay, moments, bias-corrected step with eps
// outside the sqrt. `g` is the gradient already multiplied by the clip scale.
template <class T>
SEQCNN_HD void adamw_element(T& p, T g, T& m, T& v, T lr, T beta1, T beta2, T eps, T weight_decay,
                             T bias_correction1, T bias_correction2_sqrt) {
  using std::sqrt;
  p = p * (T(1) - lr * weight_decay);
  m = m * beta1 + g * (T(1) - beta1);
  v = v * beta2 + g * g * (T(1) - beta2);
  const T step_size = lr / bias_correction1;
  const T denom = sqrt(v) / bias_correction2_sqrt + eps;
  p = p - step_size * (m / denom);
}

// --- learning-rate schedule ------------------------------------------------
// `taken` = optimiser steps already taken (0 for the first step). Linear
// warm-up to lr over warmup steps, then (cosine) decay to min_ratio * lr at
// total_steps; constant stays at lr after warm-up.
SEQCNN_HD double scheduled_lr(double lr, int64_t taken, int64_t warmup, int64_t total_steps, bool cosine,
                              double min_ratio) {
  if (warmup > 0 && taken < warmup) return lr * static_cast<double>(taken + 1) / static_cast<double>(warmup);
  if (!cosine) return lr;
  const int64_t span = total_steps - warmup;
  if (span <= 0) return lr;
  double progress = static_cast<double>(taken - warmup) / static_cast<double>(span);
  progress = progress > 1.0 ? 1.0 : progress;
  using std::cos;
  const double floor = min_ratio * lr;
  return floor + 0.5 * (lr - floor) * (1.0 + cos(3.14159265358979323846 * progress));
}

// PyTorch clip_grad_norm_: scale = min(1, max_norm / (norm + 1e-6)); 0 = off.
SEQCNN_HD double clip_scale(double grad_norm, double max_norm) {
  if (max_norm <= 0.0) return 1.0;
  const double s = max_norm / (grad_norm + 1e-6);
  return s < 1.0 ? s : 1.0;
}

// --- dropout ---------------------------------------------------------------
// Keep decisions for channels 4g .. 4g+3 of one row (bit j: channel 4g + j),
// a pure function of (seed, step, layer, row, channel) so the CPU and GPU
// draw the same masks. One Philox draw serves four channels.
SEQCNN_HD uint32_t dropout_keep_mask4(uint64_t seed, uint64_t step, uint32_t layer, uint32_t row,
                                      uint32_t channel_group, float drop_probability) {
  const rng::Philox4 r = rng::philox4x32(row, channel_group, layer, static_cast<uint32_t>(step),
                                         static_cast<uint32_t>(seed),
                                         static_cast<uint32_t>(seed >> 32) ^
                                             (static_cast<uint32_t>(rng::Stream::Dropout) << 24) ^
                                             static_cast<uint32_t>(step >> 32));
  uint32_t mask = 0;
  for (uint32_t j = 0; j < 4; ++j) mask |= static_cast<uint32_t>(rng::uniform01(r.v[j]) >= drop_probability) << j;
  return mask;
}

// Keep decision for one activation.
SEQCNN_HD bool dropout_keep(uint64_t seed, uint64_t step, uint32_t layer, uint32_t row, uint32_t channel,
                            float drop_probability) {
  return ((dropout_keep_mask4(seed, step, layer, row, channel >> 2, drop_probability) >> (channel & 3u)) & 1u) != 0;
}

}  // namespace seqcnn::math
