// The whole CPU model pass (embedding -> convs -> dense -> masked
// cross-entropy -> backward): gradients by central differences, gradient
// accumulation over micro-batches, all-masked batches.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/model_pass.hpp"
#include "cpu_model_fixture.hpp"
#include "grad_check.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {
namespace {

using testing::ConvSpec;

// An even kernel with dilation, an odd one, and a pad id that is not 0.
ModelShape small_model(float dropout) {
  return testing::make_model_shape(7, 3, {ConvSpec{4, 4, 1}, ConvSpec{5, 2, 3}}, 4, 0, dropout);
}

// True when every conv pre-activation at a real row is at least kKinkMargin
// from 0, recomputed by the definition from the stored layer inputs.
bool away_from_kinks(const ModelShape& shape, const std::vector<double>& params, const testing::RowLayout& layout,
                     const cpu::ModelActivations<double>& acts) {
  for (size_t l = 0; l < shape.convs.size(); ++l) {
    const ConvLayerShape& c = shape.convs[l];
    const auto at = [&](int64_t offset, int64_t n) {
      return std::vector<double>(params.begin() + offset, params.begin() + offset + n);
    };
    const std::vector<double> w = at(c.weight_offset, int64_t{c.kernel} * c.in_channels * c.out_channels);
    const std::vector<double> b = at(c.bias_offset, c.out_channels);
    for (size_t s = 0; s < layout.lengths.size(); ++s) {
      const std::vector<double> x = testing::gather_rows(layout, c.in_channels, acts.layers[l], s);
      if (!testing::away_from_kinks(testing::conv_by_definition(x, layout.lengths[s], c.in_channels,
                                                                c.out_channels, c.kernel, c.dilation, w, b)))
        return false;
    }
  }
  return true;
}

void expect_model_gradient_matches(float dropout, bool weighted_smoothed, uint64_t seed) {
  const ModelShape shape = small_model(dropout);
  std::mt19937_64 rng(seed);
  const testing::SequenceSet set = testing::random_sequences(rng, {5, 1, 7}, shape.vocab, shape.classes);
  const testing::RowLayout layout = testing::make_layout(set.lengths, shape.halo, 0, 3);
  const Batch batch = testing::batch_of(set, layout);
  const std::vector<double> scale = testing::token_mean_scale<double>(batch);
  const std::vector<double> class_weights = {0.5, 1.5, 1.0, 2.0};
  cpu::LossParams<double> loss_params;
  if (weighted_smoothed) {
    loss_params.class_weights = class_weights.data();
    loss_params.label_smoothing = 0.1;
  }
  cpu::ModelActivations<double> acts;
  std::vector<double> params, scratch(static_cast<size_t>(shape.parameter_count));
  auto loss = [&] {
    return cpu::model_forward_backward(shape, params.data(), batch, scale.data(), loss_params, 99, 5, acts,
                                       scratch.data())
        .loss;
  };
  bool usable = false;
  for (int attempt = 0; attempt < 200 && !usable; ++attempt) {
    params = testing::random_parameters(rng, shape);
    loss();
    usable = away_from_kinks(shape, params, layout, acts);
  }
  ASSERT_TRUE(usable) << "no draw kept every pre-activation away from the ReLU kink";

  std::vector<double> grads(static_cast<size_t>(shape.parameter_count), 0.0);
  const cpu::XentTotals totals = cpu::model_forward_backward(shape, params.data(), batch, scale.data(), loss_params,
                                                             99, 5, acts, grads.data());
  EXPECT_GT(totals.counted, 0);
  const double error = testing::gradient_error(params, grads, loss);
  std::printf("model_pass gradient check (dropout %.2f, weights+smoothing %d): %.2e over %lld parameters\n",
              static_cast<double>(dropout), weighted_smoothed, error, static_cast<long long>(shape.parameter_count));
  EXPECT_LE(error, testing::kGradientTolerance);
  // The pad id's embedding row never learns.
  for (int e = 0; e < shape.embed_dim; ++e)
    EXPECT_EQ(grads[static_cast<size_t>(shape.embedding_offset + shape.pad_id * shape.embed_dim + e)], 0.0);
}

TEST(CpuModelPass, GradientMatchesCentralDifferences) { expect_model_gradient_matches(0.0f, false, 1); }

TEST(CpuModelPass, GradientMatchesCentralDifferencesWithWeightsAndSmoothing) {
  expect_model_gradient_matches(0.0f, true, 2);
}

TEST(CpuModelPass, GradientMatchesCentralDifferencesWithDropout) { expect_model_gradient_matches(0.3f, false, 3); }

TEST(CpuModelPass, BR03_MicroBatchesScaledByTheStepsCountGiveTheOneBatchGradient) {
  const ModelShape shape = small_model(0.0f);
  std::mt19937_64 rng(4);
  const testing::SequenceSet set = testing::random_sequences(rng, {3, 11}, shape.vocab, shape.classes);
  const std::vector<double> params = testing::random_parameters(rng, shape);
  const Batch whole = testing::batch_of(set, testing::make_layout(set.lengths, shape.halo));
  const std::vector<double> whole_scale = testing::token_mean_scale<double>(whole);
  const double step_scale = *std::max_element(whole_scale.begin(), whole_scale.end());  // 1 / step's count
  cpu::ModelActivations<double> acts;
  std::vector<double> one_batch(static_cast<size_t>(shape.parameter_count), 0.0), accumulated = one_batch;
  const double whole_loss =
      cpu::model_forward_backward(shape, params.data(), whole, whole_scale.data(), {}, 0, 0, acts, one_batch.data())
          .loss;
  double accumulated_loss = 0.0;
  for (size_t s = 0; s < 2; ++s) {  // each sequence its own micro-batch, scaled by the step's count
    testing::SequenceSet part;
    part.lengths = {set.lengths[s]};
    part.tokens = {set.tokens[s]};
    part.labels = {set.labels[s]};
    const Batch micro = testing::batch_of(part, testing::make_layout(part.lengths, shape.halo));
    std::vector<double> scale(micro.labels.size(), 0.0);
    for (size_t r = 0; r < scale.size(); ++r) scale[r] = micro.labels[r] >= 0 ? step_scale : 0.0;
    accumulated_loss += cpu::model_forward_backward(shape, params.data(), micro, scale.data(), {}, 0, 0, acts,
                                                    accumulated.data())
                            .loss;
  }
  EXPECT_NEAR(accumulated_loss, whole_loss, 1e-14);
  EXPECT_LE(testing::normwise_relative_error(accumulated, one_batch), 1e-13);
}

TEST(CpuModelPass, BR01_AllMaskedBatchGivesZeroLossAndExactlyZeroGradients) {
  const ModelShape shape = small_model(0.2f);
  std::mt19937_64 rng(5);
  testing::SequenceSet set = testing::random_sequences(rng, {4, 6}, shape.vocab, shape.classes);
  for (auto& labels : set.labels) std::fill(labels.begin(), labels.end(), kIgnoreLabel);
  const Batch batch = testing::batch_of(set, testing::make_layout(set.lengths, shape.halo));
  std::vector<double> params = testing::random_parameters(rng, shape);
  for (double& p : params) p *= 1e3;  // large activations must not matter either
  const std::vector<double> scale(batch.labels.size(), 0.0);
  cpu::ModelActivations<double> acts;
  std::vector<double> grads(static_cast<size_t>(shape.parameter_count), 0.0);
  const cpu::XentTotals totals =
      cpu::model_forward_backward(shape, params.data(), batch, scale.data(), {}, 1, 1, acts, grads.data());
  EXPECT_EQ(totals.loss, 0.0);
  EXPECT_EQ(totals.counted, 0);
  EXPECT_EQ(grads, std::vector<double>(grads.size(), 0.0));
}

TEST(CpuModelPass, ForwardOnlyGivesTheSameLogitsAsTheTrainingPassWithoutDropout) {
  const ModelShape shape = small_model(0.0f);
  std::mt19937_64 rng(6);
  const testing::SequenceSet set = testing::random_sequences(rng, {9, 2, 4}, shape.vocab, shape.classes);
  const Batch batch = testing::batch_of(set, testing::make_layout(set.lengths, shape.halo, 10, 5));
  const std::vector<float> params = [&] {
    const std::vector<double> p = testing::random_parameters(rng, shape);
    return std::vector<float>(p.begin(), p.end());
  }();
  const std::vector<float> scale = testing::token_mean_scale<float>(batch);
  cpu::ModelActivations<float> train, predict;
  std::vector<float> grads(static_cast<size_t>(shape.parameter_count), 0.f);
  cpu::model_forward_backward(shape, params.data(), batch, scale.data(), {}, 0, 0, train, grads.data());
  cpu::model_forward(shape, params.data(), batch, predict);
  EXPECT_EQ(train.logits, predict.logits);
}

TEST(CpuModelPass, ActivationHaloRowsStayZeroAcrossBatchSizes) {
  const ModelShape shape = small_model(0.0f);
  std::mt19937_64 rng(7);
  const std::vector<double> params = testing::random_parameters(rng, shape);
  cpu::ModelActivations<double> acts;
  for (const std::vector<int64_t>& lengths : {std::vector<int64_t>{30, 20}, std::vector<int64_t>{6}}) {
    const testing::SequenceSet set = testing::random_sequences(rng, lengths, shape.vocab, shape.classes);
    const Batch batch = testing::batch_of(set, testing::make_layout(lengths, shape.halo));
    cpu::model_forward(shape, params.data(), batch, acts);
    for (const std::vector<double>& layer : acts.layers) {
      const size_t width = layer.size() / static_cast<size_t>(batch.rows);
      for (int64_t r = 0; r < batch.rows; ++r) {
        if (batch.row_is_real[static_cast<size_t>(r)]) continue;
        for (size_t e = 0; e < width; ++e) EXPECT_EQ(layer[static_cast<size_t>(r) * width + e], 0.0) << "row " << r;
      }
    }
  }
}

TEST(CpuModelPass, RejectsABatchWhoseHaloIsNarrowerThanTheConvolutionsReach) {
  const ModelShape shape = small_model(0.0f);
  std::mt19937_64 rng(8);
  const testing::SequenceSet set = testing::random_sequences(rng, {3}, shape.vocab, shape.classes);
  const Batch batch = testing::batch_of(set, testing::make_layout(set.lengths, shape.halo - 1));
  const std::vector<double> params = testing::random_parameters(rng, shape);
  cpu::ModelActivations<double> acts;
  EXPECT_THROW(cpu::model_forward(shape, params.data(), batch, acts), ConfigError);
}

}  // namespace
}  // namespace seqcnn
