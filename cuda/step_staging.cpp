// Staging of micro-batches into pinned regions.
#include "step_staging.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "seqcnn/errors.hpp"

namespace seqcnn::cuda {
namespace {

std::size_t align_up(std::size_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace

MicroBatchLayout micro_batch_layout(int64_t rows) {
  const auto n = static_cast<std::size_t>(rows);
  MicroBatchLayout layout;
  layout.dropout_step = 0;
  layout.row_scale = align_up(sizeof(uint64_t));
  layout.tokens = layout.row_scale + align_up(n * sizeof(float));
  layout.labels = layout.tokens + align_up(n * sizeof(int32_t));
  layout.row_is_real = layout.labels + align_up(n * sizeof(int32_t));
  layout.bytes = layout.row_is_real + align_up(n * sizeof(uint8_t));
  return layout;
}

void stage_micro_batch(const Batch& batch, std::span<const float> row_scale, uint64_t dropout_step, char* region) {
  const MicroBatchLayout layout = micro_batch_layout(batch.rows);
  const auto rows = static_cast<std::size_t>(batch.rows);
  std::memcpy(region + layout.dropout_step, &dropout_step, sizeof dropout_step);
  if (row_scale.size() == rows && rows > 0)
    std::memcpy(region + layout.row_scale, row_scale.data(), rows * sizeof(float));
  else
    std::fill_n(reinterpret_cast<float*>(region + layout.row_scale), rows, 0.0f);
  if (rows == 0) return;
  std::memcpy(region + layout.tokens, batch.tokens.data(), rows * sizeof(int32_t));
  std::memcpy(region + layout.labels, batch.labels.data(), rows * sizeof(int32_t));
  std::memcpy(region + layout.row_is_real, batch.row_is_real.data(), rows * sizeof(uint8_t));
}

DeviceBatch device_batch_view(const Batch& batch, const char* device_region) {
  const MicroBatchLayout layout = micro_batch_layout(batch.rows);
  DeviceBatch view;
  view.rows = batch.rows;
  view.halo = batch.halo;
  view.dropout_step = reinterpret_cast<const uint64_t*>(device_region + layout.dropout_step);
  view.row_scale = reinterpret_cast<const float*>(device_region + layout.row_scale);
  view.tokens = reinterpret_cast<const int32_t*>(device_region + layout.tokens);
  view.labels = reinterpret_cast<const int32_t*>(device_region + layout.labels);
  view.row_is_real = reinterpret_cast<const uint8_t*>(device_region + layout.row_is_real);
  return view;
}

}  // namespace seqcnn::cuda
