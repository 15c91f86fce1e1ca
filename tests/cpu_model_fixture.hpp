// A small model laid out by hand in the flat buffer [weights | embedding |
// biases], random parameters and random packed batches, for tests of the
// whole CPU model pass.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "common/op_math.hpp"
#include "cpu_op_fixtures.hpp"
#include "grad_check.hpp"
#include "train/model_shape.hpp"

namespace seqcnn::testing {

struct ConvSpec {
  int channels, kernel, dilation;
};

inline ModelShape make_model_shape(int vocab, int embed_dim, const std::vector<ConvSpec>& convs, int classes,
                                   int pad_id = 0, float dropout = 0.0f) {
  ModelShape s;
  s.vocab = vocab;
  s.embed_dim = embed_dim;
  s.classes = classes;
  s.pad_id = pad_id;
  s.dropout = dropout;
  int64_t offset = 0;
  int in = embed_dim;
  for (const ConvSpec& c : convs) {
    ConvLayerShape layer;
    layer.in_channels = in;
    layer.out_channels = c.channels;
    layer.kernel = c.kernel;
    layer.dilation = c.dilation;
    layer.weight_offset = offset;
    offset += int64_t{c.kernel} * in * c.channels;
    s.convs.push_back(layer);
    s.halo = std::max(s.halo, math::conv_reach_right(c.kernel, c.dilation));
    in = c.channels;
  }
  s.dense_in = in;
  s.dense_weight_offset = offset;
  offset += int64_t{classes} * in;
  s.weights_end = offset;
  s.embedding_offset = offset;
  offset += int64_t{vocab} * embed_dim;
  s.embedding_end = offset;
  for (ConvLayerShape& layer : s.convs) {
    layer.bias_offset = offset;
    offset += layer.out_channels;
  }
  s.dense_bias_offset = offset;
  offset += classes;
  s.parameter_count = offset;
  s.halo = std::max(s.halo, 1);
  return s;
}

// Sequences of these lengths with random tokens in [1, vocab) (0 is the pad
// id) and random labels, one in five unknown.
struct SequenceSet {
  std::vector<int64_t> lengths;
  std::vector<std::vector<int32_t>> tokens, labels;
};

inline SequenceSet random_sequences(std::mt19937_64& rng, const std::vector<int64_t>& lengths, int vocab,
                                    int classes) {
  SequenceSet set;
  set.lengths = lengths;
  std::uniform_int_distribution<int32_t> token(1, vocab - 1), label(0, classes - 1), unknown(0, 4);
  for (int64_t n : lengths) {
    std::vector<int32_t> t(static_cast<size_t>(n)), l(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      t[static_cast<size_t>(i)] = token(rng);
      l[static_cast<size_t>(i)] = unknown(rng) == 0 ? kIgnoreLabel : label(rng);
    }
    set.tokens.push_back(t);
    set.labels.push_back(l);
  }
  return set;
}

inline Batch batch_of(const SequenceSet& set, const RowLayout& layout, int32_t pad_id = 0) {
  return make_test_batch(layout, set.tokens, set.labels, pad_id);
}

// Token mean: 1 / counted labels on counted rows, 0 elsewhere.
template <class T>
std::vector<T> token_mean_scale(const Batch& batch) {
  int64_t counted = 0;
  for (int32_t l : batch.labels) counted += l >= 0;
  std::vector<T> scale(batch.labels.size(), T(0));
  for (size_t r = 0; r < scale.size(); ++r)
    if (batch.labels[r] >= 0) scale[r] = T(1) / static_cast<T>(counted);
  return scale;
}

// Random parameters; the pad row of the embedding is left non-zero on
// purpose (the model must not depend on it).
inline std::vector<double> random_parameters(std::mt19937_64& rng, const ModelShape& s) {
  return uniform_values(rng, static_cast<size_t>(s.parameter_count), -0.8, 0.8);
}

}  // namespace seqcnn::testing
