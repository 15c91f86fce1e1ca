// The whole model's forward and backward on the GPU, the twin of
// cpu::model_forward / cpu::model_forward_backward: the same op sequence over
// one packed batch already in device memory, on one stream, no host sync.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "device_buffer.hpp"
#include "softmax_xent.hpp"
#include "train/model_shape.hpp"

namespace seqcnn::cuda {

// A batch in device memory (see sched/batch.hpp for the layout).
struct DeviceBatch {
  int64_t rows = 0;
  int halo = 0;
  const int32_t* tokens = nullptr;
  const int32_t* labels = nullptr;
  const uint8_t* row_is_real = nullptr;
  const float* row_scale = nullptr;       // [rows]; the step's reduction
  const uint64_t* dropout_step = nullptr;  // keys the dropout masks (device memory, so graphs replay it)
};

struct DeviceLoss {
  const float* class_weights = nullptr;  // [C] or null
  float label_smoothing = 0.0f;
};

// Activations and scratch for batches of up to capacity_rows rows. Halo
// rows of the conv outputs are cleared for every batch, so a smaller batch
// never sees a larger one's rows there.
struct DeviceActivations {
  std::vector<DeviceBuffer<float>> layers;  // [0] embedding output, [l+1] conv l output
  DeviceBuffer<float> logits, dlogits, grad_a, grad_b, dpre;
  DeviceBuffer<char> workspace;
  int64_t capacity_rows = 0;

  // Grows every buffer to hold a batch of `rows` rows with `halo` (the
  // scratch size depends on both); true when anything moved (a captured
  // graph that used the old buffers is then stale).
  bool ensure(const ModelShape& shape, int64_t rows, int halo);
  // Whether a batch of `rows` rows with `halo` fits without growing.
  bool fits(const ModelShape& shape, int64_t rows, int halo) const;
};

// Forward only (dropout off): logits in acts.logits.
void model_forward(cublasHandle_t cublas, const ModelShape& shape, const float* params, const DeviceBatch& batch,
                   DeviceActivations& acts, cudaStream_t stream);

// Forward, loss and backward for one micro-batch: gradients ACCUMULATE into
// grads and the loss totals into *totals (both device memory).
void model_forward_backward(cublasHandle_t cublas, const ModelShape& shape, const float* params,
                            const DeviceBatch& batch, const DeviceLoss& loss, uint64_t dropout_seed,
                            DeviceActivations& acts, float* grads, DeviceXentTotals* totals, cudaStream_t stream);

}  // namespace seqcnn::cuda
