// Softmax + masked cross-entropy + reduction + dlogits in one kernel; twin
// of cpu::softmax_xent (src/cpu/softmax_xent.hpp holds the math). The totals
// stay on the device: nothing here synchronises with the host.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "workspace.hpp"

namespace seqcnn::cuda {

// Device-side twin of cpu::XentTotals, accumulated with +=.
struct DeviceXentTotals {
  double loss;         // sum_r s_r * loss_r
  long long counted;   // rows with label >= 0 and s_r != 0
  long long correct;   // of those, rows whose first argmax equals the label
};

std::size_t softmax_xent_workspace_bytes(int64_t rows);

// class_weights may be null (all 1); dlogits may be null (forward only).
// Per-block partials go to fixed slots in the workspace, then one block adds
// their fixed-order sum to *totals.
void softmax_xent(int64_t rows, int classes, const float* logits, const int32_t* labels, const float* row_scale,
                  const float* class_weights, float label_smoothing, float* dlogits, DeviceXentTotals* totals,
                  Workspace workspace, cudaStream_t stream);

// Row-wise softmax probabilities (for predict).
void softmax_forward(int64_t rows, int classes, const float* logits, float* probabilities, cudaStream_t stream);

}  // namespace seqcnn::cuda
