// The non-finite policy: run.nonfinite = skip leaves a step whose loss or
// gradient is not finite out (parameters, moments and the schedule's clock
// unchanged) and counts it; stop ends the run naming the step, and the
// last checkpoint written before it stays whole and finite.
#include <gtest/gtest.h>

#include <cfloat>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "resume_fixture.hpp"
#include "sched/batch.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"
#include "train/engine.hpp"
#include "train/loss_scale.hpp"

namespace seqcnn {
namespace {

using testing::all_finite;
using testing::expect_mentions;
using testing::ScratchDir;
using testing::weights_of;

// A model that overflows on one residue only: W's embedding row holds
// FLT_MAX (finite, so checkpoints may hold it) and conv 0's channel 0 adds
// half of every input at every tap, so a window that sees a W sums past
// FLT_MAX (with room for what training moves those weights). Records
// without a W train normally.
Model poisoned_model(const TrainConfig& config) {
  Model m = testing::fresh_model(config);
  const int32_t w = m.vocab().residue_id('W');
  const ParamInfo& embed = m.param("embed.weight");
  const int E = config.model.embed_dim;
  for (int e = 0; e < E; ++e) m.flat()[static_cast<size_t>(embed.offset + w * E + e)] = FLT_MAX;
  // Engine layout of a conv weight: [K][I][O].
  const ParamInfo& conv = m.param("convs.0.weight");
  const int K = config.model.convs[0].kernel, O = config.model.convs[0].channels;
  for (int k = 0; k < K; ++k)
    for (int i = 0; i < E; ++i) m.flat()[static_cast<size_t>(conv.offset + (k * E + i) * O + 0)] = 0.5f;
  return m;
}

// Records without W, then a W put into every `every`-th one.
Dataset records_with_some_w(int count, int every, uint64_t seed) {
  Dataset d = testing::protein_records(count, 4, 30, seed);
  const int32_t w = Vocabulary::protein().residue_id('W');
  for (size_t i = 0; i < d.records.size(); i += static_cast<size_t>(every)) d.records[i].tokens[1] = w;
  return d;
}

TrainConfig one_record_steps(const std::string& out_dir) {
  TrainConfig c = testing::resumable_config(out_dir);
  c.model.dropout = 0.0;
  c.batch.batch_rows = 0;
  c.batch.batch_sequences = 1;  // one record per step: a W makes exactly its step non-finite
  c.batch.accumulation = 1;
  c.run.epochs = 2;
  c.run.checkpoint_every_steps = 1;
  c.run.nonfinite = NonFinitePolicy::Skip;
  return c;
}

TEST(NonFiniteSkip, TheEngineLeavesParametersMomentsAndClockAlone) {
  const TrainConfig c = one_record_steps("");
  const Model m = poisoned_model(c);
  const Dataset d = records_with_some_w(2, 2, 3);  // record 0 has a W, record 1 none
  auto engine = make_cpu_engine(m, {c.loss, c.optim, 100, c.run.seed, 1});
  auto step_on = [&](int32_t record) {
    const std::vector<int32_t> one{record};
    const Batch b = make_batch(d, one, m.halo_rows(), BatchLayout::Packed, m.vocab().size());
    StepRequest req;
    req.micro.push_back(MicroBatch{&b, {}, 0});
    req.counted_weight = fill_row_scales(req.micro, c.loss);
    engine->train_step(req);
    return engine->drain_metrics();
  };
  ASSERT_EQ(step_on(1).steps_taken, 1);  // a good step first, so the moments are not zero
  const size_t n = static_cast<size_t>(m.parameter_count());
  std::vector<float> p0(n), m0(n), v0(n), p1(n), m1(n), v1(n);
  int64_t t0 = 0, t1 = 0;
  engine->get_parameters(p0);
  engine->get_optimizer_state(m0, v0, t0);
  const StepMetrics bad = step_on(0);
  EXPECT_EQ(bad.nonfinite_steps, 1);
  EXPECT_EQ(bad.steps_taken, 0);
  EXPECT_EQ(bad.first_nonfinite_step, 1);
  EXPECT_FALSE(std::isfinite(bad.first_nonfinite_loss) && std::isfinite(bad.first_nonfinite_grad_norm));
  engine->get_parameters(p1);
  engine->get_optimizer_state(m1, v1, t1);
  EXPECT_TRUE(p0 == p1) << "parameters moved on a refused step";
  EXPECT_TRUE(m0 == m1 && v0 == v1) << "moments moved on a refused step";
  EXPECT_EQ(t0, 1);
  EXPECT_EQ(t1, 1) << "the schedule's clock advanced on a refused step";
}

TEST(NonFiniteSkip, TheRunCountsSkippedStepsAndEndsAsIfTheyWereNeverThere) {
  ScratchDir dir;
  const Dataset train = records_with_some_w(24, 6, 4);  // 4 records with a W
  const Dataset valid = testing::protein_records(5, 4, 20, 5);
  TrainConfig c = one_record_steps(dir.file("skip"));
  Model model = poisoned_model(c);
  Trainer trainer(c, model, train, &valid);
  int64_t reported = 0;
  int nonfinite_lines = 0;
  trainer.on_step([&](const StepProgress& p) { reported = p.nonfinite_steps; });
  trainer.on_log([&](const std::string& line) {
    const auto j = nlohmann::json::parse(line);
    if (j.at("event") == "nonfinite") {
      ++nonfinite_lines;
      EXPECT_EQ(j.at("policy"), "skip");
      EXPECT_NE(j.at("where").get<std::string>().find("first record"), std::string::npos) << line;
    }
  });
  const TrainSummary s = trainer.run();
  EXPECT_EQ(s.nonfinite_steps, 4 * 2);
  EXPECT_EQ(reported, 4 * 2);
  EXPECT_EQ(nonfinite_lines, 4 * 2);
  EXPECT_EQ(s.steps, (24 - 4) * 2);
  EXPECT_EQ(s.skipped_steps, 0);

  // The same records with the W records' labels all unknown: those steps are
  // all-masked and skipped before any arithmetic. Equal weights mean the
  // refused steps moved nothing and left the dropout and schedule clocks
  // where the good steps expect them.
  Dataset masked = train;
  for (size_t i = 0; i < masked.records.size(); i += 6)
    std::fill(masked.records[i].labels.begin(), masked.records[i].labels.end(), kIgnoreLabel);
  TrainConfig twin_config = c;
  twin_config.run.out_dir = "";
  Model twin = poisoned_model(twin_config);
  Trainer twin_trainer(twin_config, twin, masked, &valid);
  const TrainSummary ts = twin_trainer.run();
  EXPECT_EQ(ts.skipped_steps, 4 * 2);
  EXPECT_EQ(ts.steps, s.steps);
  EXPECT_TRUE(weights_of(model) == weights_of(twin)) << "a skipped non-finite step changed the run";

  // No file holds a NaN or an infinity.
  for (const char* f : {"init.safetensors", "last.safetensors", "best.safetensors", "last.resume.safetensors"}) {
    const LoadedCheckpoint ck = load_checkpoint(dir.file("skip") + "/" + f);
    EXPECT_TRUE(all_finite(ck.model)) << f;
  }
  const LoadedCheckpoint last = load_checkpoint(dir.file("skip") + "/last.safetensors");
  EXPECT_EQ(last.info.step, s.steps);
  EXPECT_TRUE(weights_of(last.model) == weights_of(model));
}

TEST(NonFiniteSkip, AResumedSkipRunKeepsItsCountAndEndsBitwise) {
  ScratchDir dir;
  const Dataset train = records_with_some_w(24, 6, 4);
  TrainConfig c = one_record_steps(dir.file("full"));
  Model full = poisoned_model(c);
  Trainer full_trainer(c, full, train, nullptr);
  const TrainSummary fs = full_trainer.run();

  c.run.out_dir = dir.file("cut");
  Model first = poisoned_model(c);
  Trainer cut(c, first, train, nullptr);
  struct Interrupted {};
  cut.on_step([](const StepProgress& p) {
    if (p.step >= 27) throw Interrupted{};
  });
  EXPECT_THROW(cut.run(), Interrupted);
  Model resumed = poisoned_model(c);
  Trainer again(c, resumed, train, nullptr);
  again.resume_from(dir.file("cut") + "/last.resume.safetensors");
  const TrainSummary rs = again.run();
  EXPECT_EQ(rs.nonfinite_steps, fs.nonfinite_steps);
  EXPECT_EQ(rs.steps, fs.steps);
  EXPECT_TRUE(weights_of(resumed) == weights_of(full));
}

TEST(NonFiniteStop, ADivergingRunKeepsTheLastGoodCheckpoint) {
  // A learning rate no run should use: each AdamW step moves every weight
  // by about 1e8, and within a few steps the activations overflow.
  ScratchDir dir;
  const Dataset train = testing::protein_records(40, 5, 40, 6);
  TrainConfig c = testing::resumable_config(dir.file("diverge"));
  c.optim.lr = 1e8;
  c.optim.clip_norm = 0.0;
  c.optim.schedule = LrSchedule::Constant;
  c.optim.warmup_steps = 0;
  c.run.checkpoint_every_steps = 1;
  c.run.nonfinite = NonFinitePolicy::Stop;
  Model model = testing::fresh_model(c);
  Trainer trainer(c, model, train, nullptr);
  int64_t last_good = 0;
  trainer.on_step([&](const StepProgress& p) { last_good = p.step; });
  std::string message;
  try {
    trainer.run();
  } catch (const NumericalError& e) {
    message = e.what();
  }
  ASSERT_FALSE(message.empty()) << "the run was expected to diverge";
  expect_mentions(message, {"non-finite", "step", "first record", "training stopped"});
  ASSERT_GE(last_good, 1) << "the run must take good steps before it diverges: " << message;
  std::cout << "[ info ] diverged after " << last_good << " good steps: " << message << "\n";

  const LoadedCheckpoint last = load_checkpoint(dir.file("diverge") + "/last.safetensors");
  EXPECT_EQ(last.info.step, last_good) << "last.safetensors must be the last good step's";
  EXPECT_TRUE(all_finite(last.model));
  const LoadedCheckpoint resume = load_checkpoint(dir.file("diverge") + "/last.resume.safetensors");
  EXPECT_EQ(resume.info.step, last_good);
  EXPECT_TRUE(weights_of(resume.model) == weights_of(last.model));
  for (const auto& e : std::filesystem::directory_iterator(dir.file("diverge")))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

}  // namespace
}  // namespace seqcnn
