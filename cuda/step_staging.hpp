// How a step's host data travels: each micro-batch (tokens, labels, masks,
// row scales, dropout step) is packed into one region of a pinned staging
// buffer and goes to the device in one asynchronous copy. Checks that the
// CPU reference makes while it runs are made here, before anything is
// queued, with the same error types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model_pass.hpp"
#include "sched/batch.hpp"
#include "train/model_shape.hpp"

namespace seqcnn::cuda {

// Byte offsets inside one micro-batch's region (each array 256-byte aligned).
struct MicroBatchLayout {
  std::size_t dropout_step = 0, row_scale = 0, tokens = 0, labels = 0, row_is_real = 0;
  std::size_t bytes = 0;
};

MicroBatchLayout micro_batch_layout(int64_t rows);

// Writes the region (host memory, at least micro_batch_layout(rows).bytes).
void stage_micro_batch(const Batch& batch, std::span<const float> row_scale, uint64_t dropout_step, char* region);

// The device batch whose arrays live in a device copy of a region.
DeviceBatch device_batch_view(const Batch& batch, const char* device_region);

}  // namespace seqcnn::cuda
