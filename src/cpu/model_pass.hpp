// The whole model's forward and backward on the CPU, templated so tests run
// it in double: embedding -> conv (xN) -> dense -> softmax_xent, then back.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/softmax_xent.hpp"
#include "sched/batch.hpp"
#include "train/model_shape.hpp"

namespace seqcnn::cpu {

template <class T>
struct LossParams {
  const T* class_weights = nullptr;  // [C] or null
  T label_smoothing = T(0);
};

// Activations of one batch, reused across batches of the same size. Their
// halo rows stay zero: resize zero-fills and no op writes them.
template <class T>
struct ModelActivations {
  std::vector<std::vector<T>> layers;  // [0] embedding output, [l+1] conv l output
  std::vector<T> logits;
  // Backward scratch: dlogits, two gradient buffers that take turns as dy
  // and dx ([rows][widest activation]), and the conv epilogue's dpre.
  std::vector<T> dlogits, grad_a, grad_b, dpre;
  void resize(const ModelShape& shape, int64_t rows);
};

// Both passes throw ConfigError when the batch's halo is narrower than the
// model's reach (shape.halo) or its per-row vectors have another length.

// Forward only: logits [rows][C] (dropout off).
template <class T>
void model_forward(const ModelShape& shape, const T* params, const Batch& batch, ModelActivations<T>& acts);

// Forward + loss + backward for one micro-batch; gradients ACCUMULATE into
// grads (the caller zeroes them at the start of a step). row_scale carries
// the step's reduction (see softmax_xent.hpp). dropout_step keys the masks.
template <class T>
XentTotals model_forward_backward(const ModelShape& shape, const T* params, const Batch& batch,
                                  const T* row_scale, const LossParams<T>& loss, uint64_t dropout_seed,
                                  uint64_t dropout_step, ModelActivations<T>& acts, T* grads);

}  // namespace seqcnn::cpu
