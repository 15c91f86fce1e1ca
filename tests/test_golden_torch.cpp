// The whole model against PyTorch: logits, the loss under every reduction,
// every gradient, and five AdamW steps, from fixtures that
// tests/golden/make_fixtures.py wrote with PyTorch in float64.
#include <gtest/gtest.h>

#include <cmath>

#include "cpu/model_pass.hpp"
#include "io/safetensors.hpp"
#include "sched/batch.hpp"
#include "grad_check.hpp"
#include "train/engine.hpp"
#include "train/loss_scale.hpp"

namespace seqcnn {
namespace {

struct Golden {
  StFile file;
  Model model;
  Dataset data;
  Batch batch;
};

Golden load_golden() {
  Golden g;
  g.file = read_safetensors(std::string(SEQCNN_SOURCE_DIR) + "/tests/golden/fixtures/small_model.safetensors");
  ModelConfig mc;
  mc.embed_dim = 6;
  mc.convs.assign(2, ConvLayerConfig{});
  mc.convs[0] = ConvLayerConfig{5, 4, 1};
  mc.convs[1] = ConvLayerConfig{7, 3, 2};
  g.model = Model::initialize(mc, Vocabulary::protein(), LabelSet({"a", "b", "c"}, "-"), 0);
  std::vector<Tensor> init;
  for (const auto& p : g.model.params()) {
    const StTensor& t = g.file.at("init." + p.name);
    init.push_back(Tensor{p.name, t.shape, t.as_floats()});
  }
  g.model.load_state_dict(init);
  const auto tokens = g.file.at("tokens").as_ints(), labels = g.file.at("labels").as_ints();
  const auto lengths = g.file.at("lengths").as_ints();
  size_t at = 0;
  for (int64_t n : lengths) {
    Record r;
    r.id = "r" + std::to_string(g.data.records.size());
    for (int64_t i = 0; i < n; ++i, ++at) {
      r.tokens.push_back(static_cast<int32_t>(tokens[at]));
      r.labels.push_back(static_cast<int32_t>(labels[at]));
    }
    g.data.records.push_back(std::move(r));
  }
  std::vector<int32_t> all(g.data.records.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int32_t>(i);
  g.batch = make_batch(g.data, all, g.model.halo_rows(), BatchLayout::Packed, g.model.vocab().size());
  return g;
}

// Engine-layout gradients -> PyTorch-layout tensors, through a model copy.
std::vector<Tensor> as_state_dict(const Model& like, std::span<const float> flat) {
  Model m = like;
  std::copy(flat.begin(), flat.end(), m.flat().begin());
  return m.state_dict();
}

TEST(GoldenTorch, LogitsMatchPyTorch) {
  Golden g = load_golden();
  auto engine = make_cpu_engine(g.model, {});
  std::vector<float> logits;
  engine->forward_logits(g.batch, logits);
  std::vector<double> real;
  for (const SequenceSlot& s : g.batch.sequences)
    for (int64_t r = s.start_row; r < s.start_row + s.length; ++r)
      for (int c = 0; c < 3; ++c) real.push_back(logits[r * 3 + c]);
  const double err = testing::normwise_relative_error(real, g.file.at("logits").as_doubles());
  EXPECT_LE(err, 1e-6);
  RecordProperty("logits_error", std::to_string(err));
}

void expect_loss_and_gradients(const std::string& tag, const LossConfig& loss) {
  Golden g = load_golden();
  EngineOptions eo;
  eo.loss = loss;
  auto engine = make_cpu_engine(g.model, eo);
  StepRequest req;
  req.micro.push_back(MicroBatch{&g.batch, {}, 0});
  req.counted_weight = fill_row_scales(req.micro, loss);
  std::vector<float> grads(static_cast<size_t>(g.model.parameter_count()));
  const double l = engine->loss_and_gradients(req, grads);
  const double expected = g.file.at("loss." + tag).as_doubles()[0];
  EXPECT_NEAR(l, expected, 1e-6 * std::abs(expected)) << tag;
  for (const Tensor& t : as_state_dict(g.model, grads)) {
    const auto ref = g.file.at("grad." + tag + "." + t.name).as_doubles();
    const double err = testing::normwise_relative_error(std::vector<double>(t.values.begin(), t.values.end()), ref);
    EXPECT_LE(err, 1e-6) << tag << " gradient of " << t.name;
  }
}

TEST(GoldenTorch, TokenMeanLossAndEveryGradient) { expect_loss_and_gradients("token_mean", {}); }

TEST(GoldenTorch, SumLossAndEveryGradient) {
  LossConfig l;
  l.reduction = Reduction::Sum;
  expect_loss_and_gradients("sum", l);
}

TEST(GoldenTorch, SequenceMeanLossAndEveryGradient) {
  LossConfig l;
  l.reduction = Reduction::SequenceMean;
  expect_loss_and_gradients("sequence_mean", l);
}

TEST(GoldenTorch, ClassWeightsAndLabelSmoothing) {
  Golden g = load_golden();
  LossConfig l;
  l.class_weights = g.file.at("class_weights").as_doubles();
  l.label_smoothing = g.file.at("label_smoothing").as_doubles()[0];
  expect_loss_and_gradients("weighted_smoothed", l);
}

TEST(GoldenTorch, DoublePrecisionPassMatchesToRoundoff) {
  // The reference ops in double against PyTorch in double: only summation
  // order differs.
  Golden g = load_golden();
  const ModelShape shape = model_shape(g.model);
  std::vector<double> params(static_cast<size_t>(shape.parameter_count));
  for (const ParamInfo& p : g.model.params()) {
    const auto v = g.file.at("init." + p.name).as_doubles();
    for (int64_t i = 0; i < p.size; ++i) {
      int64_t dst = i;
      if (p.torch_shape.size() == 3) {  // [O][I][K] -> [K][I][O]
        const int64_t I = p.torch_shape[1], K = p.torch_shape[2], O = p.torch_shape[0];
        dst = ((i % K) * I + (i / K) % I) * O + i / (I * K);
      }
      params[static_cast<size_t>(p.offset + dst)] = v[static_cast<size_t>(i)];
    }
  }
  std::vector<MicroBatch> micro{MicroBatch{&g.batch, {}, 0}};
  fill_row_scales(micro, {});
  const std::vector<double> scale(micro[0].row_scale.begin(), micro[0].row_scale.end());
  std::vector<double> grads(params.size(), 0.0);
  cpu::ModelActivations<double> acts;
  const cpu::XentTotals t =
      cpu::model_forward_backward<double>(shape, params.data(), g.batch, scale.data(), {}, 0, 0, acts, grads.data());
  const double expected = g.file.at("loss.token_mean").as_doubles()[0];
  // row_scale is stored in float: 1/N rounds at 6e-8 relative.
  EXPECT_NEAR(t.loss, expected, 1e-7 * expected);
  const ParamInfo& e = g.model.param("embed.weight");
  const auto ref = g.file.at("grad.token_mean.embed.weight").as_doubles();
  EXPECT_LE(testing::normwise_relative_error(std::vector<double>(grads.begin() + e.offset, grads.begin() + e.offset + e.size), ref), 1e-7);
}

TEST(GoldenTorch, FiveAdamWStepsWithDecayClippingAndWarmup) {
  Golden g = load_golden();
  EngineOptions eo;
  eo.optim.lr = 0.05;
  eo.optim.weight_decay = 0.01;
  eo.optim.clip_norm = 0.5;
  eo.optim.schedule = LrSchedule::Cosine;
  eo.optim.warmup_steps = 2;
  eo.optim.min_lr_ratio = 0.1;
  eo.total_steps = 8;
  auto engine = make_cpu_engine(g.model, eo);
  const auto losses = g.file.at("adamw.losses").as_doubles();
  for (size_t s = 0; s < losses.size(); ++s) {
    StepRequest req;
    req.micro.push_back(MicroBatch{&g.batch, {}, s});
    req.counted_weight = fill_row_scales(req.micro, eo.loss);
    engine->train_step(req);
    const StepMetrics m = engine->drain_metrics();
    ASSERT_EQ(m.steps_taken, 1);
    EXPECT_NEAR(m.loss_sum, losses[s], 1e-5 * losses[s]) << "step " << s + 1;
  }
  std::vector<float> flat(static_cast<size_t>(g.model.parameter_count()));
  engine->get_parameters(flat);
  for (const Tensor& t : as_state_dict(g.model, flat)) {
    const auto ref = g.file.at("adamw.final." + t.name).as_doubles();
    EXPECT_LE(testing::normwise_relative_error(std::vector<double>(t.values.begin(), t.values.end()), ref), 1e-5) << t.name;
  }
}

}  // namespace
}  // namespace seqcnn
