// Geometry of one Conv1D layer applied to a packed batch buffer.
#pragma once

#include <cstdint>

#include "common/op_math.hpp"

namespace seqcnn {

// A batch buffer is [rows][channels], row-major. Its first and last `halo`
// rows are zero and never written; kernels compute rows [halo, rows - halo).
// halo >= the layer's reach on both sides, so no read leaves the buffer.
struct Conv1dShape {
  int64_t rows = 0;
  int halo = 0;
  int in_channels = 0;
  int out_channels = 0;
  int kernel = 1;
  int dilation = 1;

  SEQCNN_HD int pad_left() const { return math::conv_pad_left(kernel, dilation); }
  SEQCNN_HD int reach_right() const { return math::conv_reach_right(kernel, dilation); }
  SEQCNN_HD int64_t first_row() const { return halo; }
  SEQCNN_HD int64_t end_row() const { return rows - halo; }
};

// Dropout after a conv's ReLU; drop_probability == 0 means none.
struct DropoutSpec {
  float drop_probability = 0.0f;
  uint64_t seed = 0;
  uint64_t step = 0;
  uint32_t layer = 0;
  // Forward multiplies kept activations by this, backward scales by it too.
  SEQCNN_HD float keep_scale() const { return drop_probability > 0.0f ? 1.0f / (1.0f - drop_probability) : 1.0f; }
};

}  // namespace seqcnn
