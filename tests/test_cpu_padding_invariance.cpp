// A sequence's outputs do not depend on its neighbours or on how much
// padding surrounds it: alone, packed among others, in a padded batch, or
// next to an empty sequence.
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/conv1d.hpp"
#include "cpu/model_pass.hpp"
#include "cpu_model_fixture.hpp"

namespace seqcnn {
namespace {

std::vector<float> to_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

TEST(CpuPaddingInvariance, ConvOutputsOfASequenceAreTheSameAloneAndPackedAndPadded) {
  std::mt19937_64 rng(1);
  Conv1dShape shape;
  shape.in_channels = 8;
  shape.out_channels = 16;
  shape.kernel = 4;
  shape.dilation = 2;
  const int halo = shape.reach_right();
  const std::vector<float> seq = to_float(testing::uniform_values(rng, 37 * 8));
  const std::vector<float> other = to_float(testing::uniform_values(rng, 300 * 8));
  const std::vector<float> w = to_float(testing::uniform_values(rng, 4 * 8 * 16));
  const std::vector<float> b = to_float(testing::uniform_values(rng, 16));
  struct Arrangement {
    testing::RowLayout layout;
    std::vector<std::vector<float>> data;
    size_t index;  // where the sequence sits
  };
  const std::vector<float> head(other.begin(), other.begin() + 120 * 8), tail(other.begin() + 120 * 8, other.end());
  const std::vector<Arrangement> arrangements = {
      {testing::make_layout({37}, halo), {seq}, 0},
      {testing::make_layout({120, 37, 180}, halo), {head, seq, tail}, 1},
      {testing::make_layout({120, 37, 180}, halo, 200), {head, seq, tail}, 1},  // padded to 200
      {testing::make_layout({120, 0, 37}, halo, 0, 500), {head, {}, seq}, 2},   // empty neighbour, long tail
  };
  std::vector<std::vector<float>> outputs;
  for (const Arrangement& a : arrangements) {
    Conv1dShape s = shape;
    s.rows = a.layout.rows;
    s.halo = a.layout.halo;
    const std::vector<float> x = testing::scatter_rows(a.layout, 8, a.data);
    std::vector<float> y(static_cast<size_t>(a.layout.rows * 16), 0.f);
    cpu::conv1d_forward(s, x.data(), w.data(), b.data(), a.layout.row_is_real.data(), DropoutSpec{}, y.data());
    outputs.push_back(testing::gather_rows(a.layout, 16, y, a.index));
  }
  for (size_t i = 1; i < outputs.size(); ++i) {
    const double error = testing::normwise_relative_error(outputs[i], outputs[0]);
    const bool bitwise = std::memcmp(outputs[i].data(), outputs[0].data(), outputs[0].size() * sizeof(float)) == 0;
    std::printf("conv padding invariance, arrangement %zu: error %.2e, bitwise %s\n", i, error,
                bitwise ? "yes" : "no");
    EXPECT_LE(error, 1e-6) << "arrangement " << i;
  }
}

struct PassResult {
  std::vector<std::vector<float>> logits;  // per sequence
  std::vector<float> grads;
  double loss;
};

PassResult run_model(const ModelShape& shape, const std::vector<float>& params, const testing::SequenceSet& set,
                     const testing::RowLayout& layout) {
  const Batch batch = testing::batch_of(set, layout);
  const std::vector<float> scale = testing::token_mean_scale<float>(batch);
  cpu::ModelActivations<float> acts;
  PassResult r;
  r.grads.assign(static_cast<size_t>(shape.parameter_count), 0.f);
  r.loss = cpu::model_forward_backward(shape, params.data(), batch, scale.data(), {}, 3, 4, acts, r.grads.data()).loss;
  for (size_t s = 0; s < set.lengths.size(); ++s)
    if (set.lengths[s] > 0) r.logits.push_back(testing::gather_rows(layout, shape.classes, acts.logits, s));
  return r;
}

TEST(CpuPaddingInvariance, ModelLogitsLossAndGradientsDoNotDependOnTheLayout) {
  const ModelShape shape = testing::make_model_shape(21, 12, {{24, 5, 1}, {24, 2, 3}}, 3, 0, 0.0f);
  std::mt19937_64 rng(2);
  const std::vector<float> params = to_float(testing::random_parameters(rng, shape));
  const testing::SequenceSet set = testing::random_sequences(rng, {57, 3, 140}, shape.vocab, shape.classes);
  testing::SequenceSet with_empty = set;  // an empty sequence in the middle adds rows but no positions
  with_empty.lengths.insert(with_empty.lengths.begin() + 1, 0);
  with_empty.tokens.insert(with_empty.tokens.begin() + 1, std::vector<int32_t>{});
  with_empty.labels.insert(with_empty.labels.begin() + 1, std::vector<int32_t>{});

  const PassResult packed = run_model(shape, params, set, testing::make_layout(set.lengths, shape.halo));
  const std::vector<PassResult> others = {
      run_model(shape, params, set, testing::make_layout(set.lengths, shape.halo, 140)),      // padded
      run_model(shape, params, set, testing::make_layout(set.lengths, shape.halo + 3, 0, 700)),  // wider gaps, tail
      run_model(shape, params, with_empty, testing::make_layout(with_empty.lengths, shape.halo)),
  };
  for (size_t i = 0; i < others.size(); ++i) {
    EXPECT_NEAR(others[i].loss, packed.loss, 1e-6 * packed.loss) << "arrangement " << i;
    ASSERT_EQ(others[i].logits.size(), packed.logits.size());
    for (size_t s = 0; s < packed.logits.size(); ++s)
      EXPECT_LE(testing::normwise_relative_error(others[i].logits[s], packed.logits[s]), 1e-6)
          << "arrangement " << i << " sequence " << s;
    const double grad_error = testing::normwise_relative_error(others[i].grads, packed.grads);
    std::printf("model padding invariance, arrangement %zu: loss %.9g vs %.9g, gradient error %.2e\n", i,
                others[i].loss, packed.loss, grad_error);
    EXPECT_LE(grad_error, 1e-6) << "arrangement " << i;
  }
}

}  // namespace
}  // namespace seqcnn
