// Dimensions and flat-buffer offsets of a model, as plain data the CPU
// reference and the CUDA engine both walk.
#pragma once

#include <cstdint>
#include <vector>

#include "seqcnn/model.hpp"

namespace seqcnn {

struct ConvLayerShape {
  int in_channels = 0, out_channels = 0, kernel = 1, dilation = 1;
  int64_t weight_offset = 0;  // [K][I][O]
  int64_t bias_offset = 0;    // [O]
};

struct ModelShape {
  int vocab = 0, embed_dim = 0, classes = 0, halo = 0, pad_id = 0;
  int64_t embedding_offset = 0;  // [V][E]
  std::vector<ConvLayerShape> convs;
  int dense_in = 0;
  int64_t dense_weight_offset = 0;  // [C][J]
  int64_t dense_bias_offset = 0;    // [C]
  int64_t parameter_count = 0;
  int64_t weights_end = 0, embedding_end = 0;  // group boundaries (see ParamGroup)
  float dropout = 0.0f;
  int widest_channels() const;  // largest activation width (embedding, convs, classes)
};

ModelShape model_shape(const Model& model);

}  // namespace seqcnn
