// The training step as a whole: PyTorch step-by-step parity on the real
// data, skipped all-masked steps, gradient accumulation, padding
// invariance, determinism and the non-finite guard.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "common/op_math.hpp"
#include "grad_check.hpp"
#include "sched/batch.hpp"
#include "seqcnn/checkpoint.hpp"
#include "seqcnn/errors.hpp"
#include "seqcnn/trainer.hpp"
#include "train/engine.hpp"
#include "train/loss_scale.hpp"

namespace seqcnn {
namespace {

using testing::normwise_relative_error;

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("seqcnn_test_training_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

// Random protein-like records; every fifth label unknown.
Dataset random_dataset(const std::vector<int64_t>& lengths, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Dataset d;
  d.source = "random";
  for (int64_t n : lengths) {
    Record r;
    r.id = "seq" + std::to_string(d.records.size());
    for (int64_t i = 0; i < n; ++i) {
      r.tokens.push_back(static_cast<int32_t>(1 + rng() % 21));
      r.labels.push_back(rng() % 5 == 0 ? kIgnoreLabel : static_cast<int32_t>(rng() % 3));
    }
    d.records.push_back(std::move(r));
  }
  return d;
}

Model tiny_model(uint64_t seed = 3) {
  ModelConfig mc;
  mc.embed_dim = 5;
  mc.convs.assign(2, ConvLayerConfig{});
  mc.convs[0] = ConvLayerConfig{6, 4, 1};
  mc.convs[1] = ConvLayerConfig{7, 3, 2};
  return Model::initialize(mc, Vocabulary::protein(), LabelSet({"C", "E", "H"}, "-"), seed);
}

StepRequest request_for(const std::vector<const Batch*>& batches, const LossConfig& loss) {
  StepRequest req;
  for (const Batch* b : batches) req.micro.push_back(MicroBatch{b, {}, 0});
  req.counted_weight = fill_row_scales(req.micro, loss);
  return req;
}

std::vector<float> gradients(Engine& e, const Model& m, const StepRequest& req) {
  std::vector<float> g(static_cast<size_t>(m.parameter_count()));
  e.loss_and_gradients(req, g);
  return g;
}

TEST(TrainingAgainstPyTorch, SeedPresetFirst100StepsMatch) {
  // PyTorch trained from seqcnn's initial weights on seqcnn's batch plan
  // (tests/golden/make_training_fixture.sh); losses must agree to 1e-4.
  std::ifstream in(std::string(SEQCNN_SOURCE_DIR) + "/tests/golden/fixtures/seed_preset_100_steps.json");
  ASSERT_TRUE(in) << "fixture missing";
  const auto fixture = nlohmann::json::parse(in);
  const auto torch_losses = fixture.at("losses").get<std::vector<double>>();
  ASSERT_EQ(torch_losses.size(), 100u);

  TrainConfig c = preset_config("seed");
  c.run.seed = 1;
  c.run.threads = 1;
  c.run.epochs = 8;
  c.run.log_every_steps = 1;
  c.run.out_dir = "";
  c.data.train_path = std::string(SEQCNN_SOURCE_DIR) + "/data/ss/train.ss3.txt";
  c.data.valid_path = c.data.test_path = "";
  const TrainingData data = load_training_data(c.data);
  Model model = Model::initialize(c.model, data.vocab, data.labels, c.run.seed);
  Trainer trainer(c, model, data.train, nullptr);
  std::vector<double> losses;
  trainer.on_step([&](const StepProgress& p) { losses.push_back(p.loss); });
  trainer.run();
  ASSERT_GE(losses.size(), 100u);
  double worst = 0.0;
  for (size_t i = 0; i < 100; ++i) {
    const double rel = std::abs(losses[i] - torch_losses[i]) / std::abs(torch_losses[i]);
    worst = std::max(worst, rel);
    EXPECT_LE(rel, 1e-4) << "step " << i + 1 << ": seqcnn " << losses[i] << ", PyTorch " << torch_losses[i];
  }
  std::cout << "[ info ] worst relative loss difference over 100 steps: " << worst << "\n";
}

TEST(TrainingStep, AllMaskedStepMovesNothing) {
  Model m = tiny_model();
  Dataset d = random_dataset({7, 3}, 1);
  Dataset masked = d;
  for (auto& r : masked.records) std::fill(r.labels.begin(), r.labels.end(), kIgnoreLabel);
  const std::vector<int32_t> both{0, 1};
  const Batch real = make_batch(d, both, m.halo_rows(), BatchLayout::Packed, m.vocab().size());
  const Batch none = make_batch(masked, both, m.halo_rows(), BatchLayout::Packed, m.vocab().size());
  auto engine = make_cpu_engine(m, {});
  engine->train_step(request_for({&real}, {}));  // one real step so the moments are non-zero
  const size_t n = static_cast<size_t>(m.parameter_count());
  std::vector<float> p0(n), m0(n), v0(n), p1(n), m1(n), v1(n);
  int64_t t0 = 0, t1 = 0;
  engine->get_parameters(p0);
  engine->get_optimizer_state(m0, v0, t0);
  const StepRequest req = request_for({&none}, {});
  EXPECT_EQ(req.counted_weight, 0.0);
  std::vector<float> g(n, 1.0f);
  EXPECT_EQ(engine->loss_and_gradients(req, g), 0.0);
  for (float x : g) ASSERT_EQ(x, 0.0f);
  engine->train_step(req);
  engine->get_parameters(p1);
  engine->get_optimizer_state(m1, v1, t1);
  EXPECT_EQ(p0, p1);
  EXPECT_EQ(m0, m1);
  EXPECT_EQ(v0, v1);
  EXPECT_EQ(t0, 1);
  EXPECT_EQ(t1, 1);
  const StepMetrics metrics = engine->drain_metrics();
  EXPECT_EQ(metrics.steps_taken, 1);
  EXPECT_EQ(metrics.steps_skipped, 1);
  EXPECT_FALSE(std::isnan(metrics.loss_sum));
}

TEST(TrainingStep, AccumulatedMicroBatchesGiveTheBigBatchGradient) {
  // Micro-batches of very different valid counts: the step divides by the
  // valid weight of the whole step, not of each micro-batch.
  for (Reduction red : {Reduction::TokenMean, Reduction::Sum, Reduction::SequenceMean}) {
    Model m = tiny_model();
    Dataset d = random_dataset({2, 40, 11, 1}, 2);
    LossConfig loss;
    loss.reduction = red;
    loss.class_weights = {1.0, 2.0, 0.5};
    loss.label_smoothing = 0.1;
    const int halo = m.halo_rows(), V = m.vocab().size();
    const std::vector<int32_t> first{0}, rest{1, 2, 3}, all{0, 1, 2, 3};
    const Batch a = make_batch(d, first, halo, BatchLayout::Packed, V);
    const Batch b = make_batch(d, rest, halo, BatchLayout::Padded, V);
    const Batch whole = make_batch(d, all, halo, BatchLayout::Packed, V);
    auto engine = make_cpu_engine(m, {loss, {}, 0, 1, 0});
    const auto g_split = gradients(*engine, m, request_for({&a, &b}, loss));
    const auto g_whole = gradients(*engine, m, request_for({&whole}, loss));
    EXPECT_LE(normwise_relative_error(g_split, g_whole), 1e-6) << to_string(red);
  }
}

TEST(TrainingStep, LogitsDoNotDependOnPaddingOrNeighbours) {
  Model m = tiny_model();
  Dataset d = random_dataset({9, 1, 17, 4, 30}, 3);
  const int halo = m.halo_rows(), V = m.vocab().size();
  auto engine = make_cpu_engine(m, {});
  auto logits_of = [&](const std::vector<int32_t>& records, BatchLayout layout, int64_t min_rows, int32_t which) {
    const Batch b = make_batch(d, records, halo, layout, V, min_rows);
    std::vector<float> logits;
    engine->forward_logits(b, logits);
    for (const SequenceSlot& s : b.sequences)
      if (s.record == which)
        return std::vector<float>(logits.begin() + s.start_row * 3, logits.begin() + (s.start_row + s.length) * 3);
    return std::vector<float>{};
  };
  for (int32_t which : {0, 1, 2}) {
    const auto alone = logits_of({which}, BatchLayout::Packed, 0, which);
    ASSERT_FALSE(alone.empty());
    const auto padded = logits_of({4, which, 3}, BatchLayout::Padded, 0, which);
    const auto packed = logits_of({2, 3, which, 4, 0}, BatchLayout::Packed, 0, which);
    const auto budget = logits_of({3, which}, BatchLayout::Packed, 500, which);
    EXPECT_LE(normwise_relative_error(alone, padded), 1e-6);
    EXPECT_LE(normwise_relative_error(alone, packed), 1e-6);
    EXPECT_LE(normwise_relative_error(alone, budget), 1e-6);
  }
}

TEST(TrainingStep, SumReductionGradientIsTheSumOfPerSequenceGradients) {
  Model m = tiny_model();
  Dataset d = random_dataset({12, 5, 1, 23}, 4);
  LossConfig loss;
  loss.reduction = Reduction::Sum;
  const int halo = m.halo_rows(), V = m.vocab().size();
  auto engine = make_cpu_engine(m, {loss, {}, 0, 1, 0});
  const std::vector<int32_t> all{0, 1, 2, 3};
  const Batch whole = make_batch(d, all, halo, BatchLayout::Packed, V);
  const auto g_batch = gradients(*engine, m, request_for({&whole}, loss));
  std::vector<double> g_sum(g_batch.size(), 0.0);
  for (int32_t r : all) {
    const std::vector<int32_t> one{r};
    const Batch b = make_batch(d, one, halo, BatchLayout::Packed, V);
    const auto g = gradients(*engine, m, request_for({&b}, loss));
    for (size_t i = 0; i < g.size(); ++i) g_sum[i] += g[i];
  }
  EXPECT_LE(normwise_relative_error(g_batch, g_sum), 1e-6);
}

TEST(LossScale, SequenceMeanDividesBySequencesWithCountedLabels) {
  // Fixture F of the masking cases: A has 3 counted labels, B 1, and an
  // empty sequence counts for nothing.
  Dataset d;
  d.records = {Record{"A", {1, 2, 3}, {0, 1, 2}}, Record{"B", {4, 5, 6}, {0, kIgnoreLabel, kIgnoreLabel}},
               Record{"E", {}, {}}};
  const std::vector<int32_t> all{0, 2, 1};
  const Batch b = make_batch(d, all, 1, BatchLayout::Padded, 22);
  LossConfig loss;
  loss.reduction = Reduction::SequenceMean;
  std::vector<MicroBatch> micro{MicroBatch{&b, {}, 0}};
  EXPECT_EQ(fill_row_scales(micro, loss), 4.0);
  for (const SequenceSlot& s : b.sequences) {
    for (int64_t r = s.start_row; r < s.start_row + s.length; ++r) {
      const float expected = b.labels[r] == kIgnoreLabel ? 0.0f : (s.record == 0 ? 1.0f / 6.0f : 0.5f);
      EXPECT_FLOAT_EQ(micro[0].row_scale[r], expected);
    }
  }
  loss.reduction = Reduction::TokenMean;
  fill_row_scales(micro, loss);
  double total = 0;
  for (float s : micro[0].row_scale) total += s;
  EXPECT_NEAR(total, 1.0, 1e-7);  // four counted rows at 1/4 each
}

TEST(LossScale, AnyNegativeLabelIsIgnoredAndALabelPastTheWeightsIsRefused) {
  Dataset d;
  d.records = {Record{"A", {1, 2, 3}, {0, 1, 2}}};
  const Batch good = make_batch(d, std::vector<int32_t>{0}, 1, BatchLayout::Packed, 22);
  LossConfig loss;
  loss.class_weights = {1.0, 2.0, 4.0};
  Batch sentinel = good;  // a hand-built batch using PyTorch's -100 for "ignore"
  const int64_t row = sentinel.sequences[0].start_row + 2;
  sentinel.labels[row] = -100;
  std::vector<MicroBatch> micro{MicroBatch{&sentinel, {}, 0}};
  EXPECT_EQ(fill_row_scales(micro, loss), 3.0);  // weights 1 + 2; the -100 row counts for nothing
  EXPECT_EQ(micro[0].row_scale[row], 0.0f);
  Batch past = good;
  past.labels[row] = 3;
  std::vector<MicroBatch> bad{MicroBatch{&past, {}, 0}};
  EXPECT_THROW(fill_row_scales(bad, loss), InputError);
}

TEST(Schedule, WarmupThenCosineAndSkippedStepsDoNotAdvanceIt) {
  EXPECT_DOUBLE_EQ(math::scheduled_lr(1.0, 0, 4, 14, true, 0.1), 0.25);
  EXPECT_DOUBLE_EQ(math::scheduled_lr(1.0, 3, 4, 14, true, 0.1), 1.0);
  EXPECT_DOUBLE_EQ(math::scheduled_lr(1.0, 4, 4, 14, true, 0.1), 1.0);
  EXPECT_NEAR(math::scheduled_lr(1.0, 9, 4, 14, true, 0.1), 0.55, 1e-12);
  EXPECT_NEAR(math::scheduled_lr(1.0, 14, 4, 14, true, 0.1), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(math::scheduled_lr(1.0, 100, 0, 14, false, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(math::clip_scale(4.0, 1.0), 1.0 / (4.0 + 1e-6));
  EXPECT_DOUBLE_EQ(math::clip_scale(0.5, 1.0), 1.0);
}

TrainConfig tiny_run(const std::string& out_dir, int threads) {
  TrainConfig c = preset_config("seed");
  c.model = tiny_model().config();
  c.model.dropout = 0.2;  // exercises the counter-based masks
  c.batch.batch_sequences = 0;
  c.batch.batch_rows = 128;
  c.batch.accumulation = 2;
  c.optim.weight_decay = 0.01;
  c.optim.clip_norm = 1.0;
  c.run.epochs = 2;
  c.run.threads = threads;
  c.run.log_every_steps = 3;
  c.run.out_dir = out_dir;
  return c;
}

TEST(Determinism, SameSeedGivesBitwiseIdenticalWeights) {
  const Dataset train = random_dataset({30, 12, 7, 50, 3, 19, 26, 41, 8, 1, 60, 22}, 5);
  const Dataset valid = random_dataset({15, 9, 33}, 6);
  auto run = [&](int threads) {
    Model m = tiny_model(9);
    Trainer t(tiny_run("", threads), m, train, &valid);
    t.run();
    return std::vector<float>(m.flat().begin(), m.flat().end());
  };
  const auto a = run(2), b = run(2), c = run(1);
  EXPECT_EQ(a, b) << "same seed, same threads";
  EXPECT_EQ(a, c) << "the thread count must not change the result either";
  Model fresh = tiny_model(9);
  EXPECT_NE(a, std::vector<float>(fresh.flat().begin(), fresh.flat().end())) << "training must move the weights";
}

TEST(NonFiniteGuard, StopsTrainingAndKeepsTheLastGoodCheckpoint) {
  const Dataset train = random_dataset({30, 12, 7, 50, 3, 19}, 7);
  const std::string dir = temp_dir("nonfinite");
  Model m = tiny_model();
  m.flat()[static_cast<size_t>(m.param("dense.weight").offset)] = std::numeric_limits<float>::infinity();
  TrainConfig c = tiny_run("", 1);  // no files: the step guard itself must fire
  c.model.dropout = 0.0;
  Trainer t(c, m, train, nullptr);
  try {
    t.run();
    FAIL() << "an infinite weight must stop training";
  } catch (const NumericalError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("non-finite"), std::string::npos) << what;
    EXPECT_NE(what.find("step 1"), std::string::npos) << what;
    EXPECT_NE(what.find("first record"), std::string::npos) << what;
    EXPECT_NE(what.find("dense.weight"), std::string::npos) << "the tensor must be named: " << what;
  }
  // With an output directory, not even the initial checkpoint is written from it.
  Trainer with_files(tiny_run(dir, 1), m, train, nullptr);
  try {
    with_files.run();
    FAIL() << "an infinite weight must not reach a checkpoint";
  } catch (const NumericalError& e) {
    EXPECT_NE(std::string(e.what()).find("dense.weight"), std::string::npos) << e.what();
  }
  for (const char* f : {"init.safetensors", "last.safetensors", "last.resume.safetensors"})
    EXPECT_FALSE(std::filesystem::exists(dir + "/" + f)) << f;
}

TEST(Trainer, WritesCheckpointsAndAJsonlLog) {
  const Dataset train = random_dataset({30, 12, 7, 50, 3, 19}, 8);
  const Dataset valid = random_dataset({15, 9}, 9);
  const std::string dir = temp_dir("files");
  Model m = tiny_model();
  Trainer t(tiny_run(dir, 1), m, train, &valid);
  std::vector<std::string> lines;
  t.on_log([&](const std::string& l) { lines.push_back(l); });
  const TrainSummary s = t.run();
  EXPECT_EQ(s.epochs_run, 2);
  for (const char* f : {"init.safetensors", "last.safetensors", "best.safetensors", "train.jsonl"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
  const LoadedCheckpoint last = load_checkpoint(dir + "/last.safetensors");
  EXPECT_EQ(std::vector<float>(last.model.flat().begin(), last.model.flat().end()),
            std::vector<float>(m.flat().begin(), m.flat().end()));
  EXPECT_EQ(last.info.step, s.steps);
  int starts = 0, plans = 0, epochs = 0, steps = 0;
  for (const auto& l : lines) {
    const auto j = nlohmann::json::parse(l);
    const std::string ev = j.at("event");
    starts += ev == "start";
    plans += ev == "plan";
    epochs += ev == "epoch";
    steps += ev == "step";
  }
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(plans, 2);
  EXPECT_EQ(epochs, 2);
  EXPECT_GT(steps, 0);
}

TEST(Trainer, EarlyStoppingEndsTheRunAfterPatienceEpochsWithoutGain) {
  const Dataset train = random_dataset({30, 12, 7, 50, 3, 19}, 8);
  const Dataset valid = random_dataset({15, 9}, 9);
  // An lr far below float resolution: the weights cannot move, so validation
  // accuracy gains only at epoch 1.
  TrainConfig c = tiny_run("", 1);
  c.optim.lr = 1e-30;
  c.run.epochs = 10;
  c.run.early_stopping_patience = 2;
  Model m = tiny_model();
  std::vector<bool> improved;
  Trainer t(c, m, train, &valid);
  t.on_epoch([&](const EpochReport& r) { improved.push_back(r.improved); });
  const TrainSummary s = t.run();
  EXPECT_TRUE(s.stopped_early);
  EXPECT_EQ(s.epochs_run, 3);
  EXPECT_EQ(s.best_epoch, 1);
  EXPECT_EQ(improved, (std::vector<bool>{true, false, false}));

  c.run.early_stopping_patience = 0;  // off: every epoch runs
  c.run.epochs = 4;
  Model m2 = tiny_model();
  Trainer all(c, m2, train, &valid);
  const TrainSummary s2 = all.run();
  EXPECT_FALSE(s2.stopped_early);
  EXPECT_EQ(s2.epochs_run, 4);
}

}  // namespace
}  // namespace seqcnn
