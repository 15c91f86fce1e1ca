// Resuming a run from <out>/last.resume.safetensors ends with weights
// bitwise identical to the uninterrupted run's (mid-epoch and at an epoch
// boundary, with dropout and gradient accumulation), and a resume that
// could not be exact (another config, other data, another model) is
// refused naming what differs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/safetensors.hpp"
#include "resume_fixture.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"
#include "train/resume_state.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::fresh_model;
using testing::message_of;
using testing::resumable_config;
using testing::ScratchDir;
using testing::weights_of;

struct Interrupted {};  // thrown from a callback: the process "dies" there

struct RunResult {
  std::vector<float> weights;
  TrainSummary summary;
  std::vector<EpochReport> epochs;
  int64_t steps_per_epoch = 0;
};

class Resume : public ::testing::Test {
 protected:
  const Dataset train = testing::protein_records(60, 5, 60, 21);
  const Dataset valid = testing::protein_records(10, 5, 40, 22);
  ScratchDir dir;

  std::string out(const std::string& name) const { return dir.file(name); }
  std::string resume_file(const std::string& name) const { return out(name) + "/last.resume.safetensors"; }

  // Runs `config` from fresh weights (or from `resume`), stopping by an
  // exception once `stop_after_step` steps are done or `stop_after_epoch`
  // epochs have ended (0 = never).
  RunResult run(const TrainConfig& config, const std::string& resume = "", int64_t stop_after_step = 0,
                int stop_after_epoch = 0) const {
    Model model = fresh_model(config);
    Trainer trainer(config, model, train, &valid);
    if (!resume.empty()) trainer.resume_from(resume);
    RunResult r;
    trainer.on_step([&](const StepProgress& p) {
      r.steps_per_epoch = p.steps_per_epoch;
      if (stop_after_step > 0 && p.step >= stop_after_step) throw Interrupted{};
    });
    trainer.on_epoch([&](const EpochReport& e) {
      r.epochs.push_back(e);
      if (stop_after_epoch > 0 && e.epoch >= stop_after_epoch) throw Interrupted{};
    });
    if (stop_after_step > 0 || stop_after_epoch > 0) {
      EXPECT_THROW(trainer.run(), Interrupted);
      return r;
    }
    r.summary = trainer.run();
    r.weights = weights_of(model);
    return r;
  }

  // The resumed run matches the uninterrupted one in every observable. The
  // weights do not depend on the thread count, a loss total's summation
  // order does: with other threads the reported losses agree to rounding.
  static void expect_same_run(const RunResult& resumed, const RunResult& full, bool same_threads = true) {
    EXPECT_TRUE(resumed.weights == full.weights) << "final weights differ";
    EXPECT_EQ(resumed.summary.steps, full.summary.steps);
    EXPECT_EQ(resumed.summary.epochs_run, full.summary.epochs_run);
    EXPECT_EQ(resumed.summary.best_epoch, full.summary.best_epoch);
    EXPECT_EQ(resumed.summary.best_valid_accuracy, full.summary.best_valid_accuracy);
    // Every epoch the resumed run finished reports what the full run did,
    // the one it re-entered mid-way included.
    ASSERT_FALSE(resumed.epochs.empty());
    for (const EpochReport& e : resumed.epochs) {
      const EpochReport& f = full.epochs.at(static_cast<size_t>(e.epoch - 1));
      EXPECT_EQ(e.step, f.step) << "epoch " << e.epoch;
      if (same_threads) EXPECT_EQ(e.train_loss, f.train_loss) << "epoch " << e.epoch;
      else EXPECT_NEAR(e.train_loss, f.train_loss, 1e-12 * f.train_loss) << "epoch " << e.epoch;
      EXPECT_EQ(e.train_accuracy, f.train_accuracy) << "epoch " << e.epoch;
      if (same_threads) EXPECT_EQ(e.valid.loss, f.valid.loss) << "epoch " << e.epoch;
      else EXPECT_NEAR(e.valid.loss, f.valid.loss, 1e-12 * f.valid.loss) << "epoch " << e.epoch;
      EXPECT_EQ(e.improved, f.improved) << "epoch " << e.epoch;
    }
  }

  static std::vector<float> best_weights(const std::string& run_dir) {
    return weights_of(load_checkpoint(run_dir + "/best.safetensors").model);
  }
};

TEST_F(Resume, MidEpochInterruptionResumesBitwise) {
  const RunResult full = run(resumable_config(out("full")));
  ASSERT_GE(full.steps_per_epoch, 6) << "the fixture needs several steps per epoch";
  // Stop in the middle of epoch 1 and of epoch 2: the callback throws before
  // the step's checkpoint, so the run resumes from the one two steps back.
  for (const int64_t stop : {int64_t{5}, full.steps_per_epoch + full.steps_per_epoch / 2 + 1}) {
    SCOPED_TRACE("stopped after step " + std::to_string(stop));
    const std::string name = "stop" + std::to_string(stop);
    TrainConfig config = resumable_config(out(name));
    run(config, "", stop);
    const LoadedCheckpoint saved = load_checkpoint(resume_file(name));
    EXPECT_LT(saved.info.step, stop);
    const RunResult resumed = run(config, resume_file(name));
    EXPECT_GT(resumed.summary.resumed_step, 0) << "the resume point must lie inside an epoch";
    EXPECT_EQ(resumed.summary.resumed_epoch, static_cast<int>(saved.info.step / full.steps_per_epoch) + 1);
    expect_same_run(resumed, full);
    EXPECT_EQ(best_weights(out(name)), best_weights(out("full")));
  }
}

TEST_F(Resume, EpochBoundaryInterruptionResumesBitwise) {
  const RunResult full = run(resumable_config(out("full")));
  TrainConfig config = resumable_config(out("boundary"));
  config.run.checkpoint_every_steps = 0;  // only the end-of-epoch checkpoint
  run(config, "", 0, 1);
  const RunResult resumed = run(config, resume_file("boundary"));
  EXPECT_EQ(resumed.summary.resumed_epoch, 2);
  EXPECT_EQ(resumed.summary.resumed_step, 0);
  EXPECT_EQ(resumed.epochs.front().epoch, 2);
  expect_same_run(resumed, full);
}

TEST_F(Resume, RepeatedInterruptionsStillEndBitwise) {
  const RunResult full = run(resumable_config(out("full")));
  TrainConfig config = resumable_config(out("twice"));
  run(config, "", 3);
  run(config, resume_file("twice"), full.steps_per_epoch + 2);
  const RunResult resumed = run(config, resume_file("twice"));
  expect_same_run(resumed, full);
}

TEST_F(Resume, ChangesThatLeaveTheArithmeticAloneAreAccepted) {
  const RunResult full = run(resumable_config(out("full")));
  run(resumable_config(out("first")), "", 7);
  TrainConfig changed = resumable_config(out("elsewhere"));
  changed.run.threads = 2;
  changed.run.log_every_steps = 3;
  changed.run.checkpoint_every_steps = 0;
  changed.run.nonfinite = NonFinitePolicy::Skip;
  changed.preset = "renamed";
  const RunResult resumed = run(changed, resume_file("first"));
  expect_same_run(resumed, full, false);
}

TEST_F(Resume, AFinishedRunResumesToItself) {
  const RunResult full = run(resumable_config(out("full")));
  const RunResult again = run(resumable_config(out("full")), resume_file("full"));
  EXPECT_EQ(again.weights, full.weights);
  EXPECT_EQ(again.summary.steps, full.summary.steps);
  EXPECT_TRUE(again.epochs.empty()) << "no epoch is left to run";
}

TEST_F(Resume, MoreEpochsOfAConstantScheduleContinueExactly) {
  // With a constant learning rate (after warmup) the schedule does not
  // depend on the run's length, so a finished 1-epoch run extended to 3
  // epochs ends where a 3-epoch run does.
  TrainConfig three = resumable_config(out("three"));
  three.optim.schedule = LrSchedule::Constant;
  const RunResult full = run(three);
  TrainConfig one = three;
  one.run.out_dir = out("one");
  one.run.epochs = 1;
  run(one);
  three.run.out_dir = out("one");
  const RunResult extended = run(three, resume_file("one"));
  EXPECT_EQ(extended.summary.resumed_epoch, 2);
  expect_same_run(extended, full);
}

class ResumeRefusal : public Resume {
 protected:
  void SetUp() override { run(resumable_config(out("run")), "", 5); }

  std::string refusal(const TrainConfig& config, const Dataset& data) const {
    Model model = fresh_model(config);
    Trainer trainer(config, model, data, &valid);
    return message_of<CheckpointError>([&] { trainer.resume_from(resume_file("run")); });
  }
  std::string refusal(const std::function<void(TrainConfig&)>& change) const {
    TrainConfig config = resumable_config(out("run"));
    change(config);
    return refusal(config, train);
  }
};

TEST_F(ResumeRefusal, ChangedConfigKeysAreNamedWithBothValues) {
  const std::string lr = refusal([](TrainConfig& c) { c.optim.lr = 4e-3; });
  expect_mentions(lr, {resume_file("run"), "would not continue it exactly", "optim.lr was 0.003, now 0.004"});
  expect_mentions(refusal([](TrainConfig& c) { c.model.dropout = 0.3; }), {"model.dropout was 0.2, now 0.3"});
  expect_mentions(refusal([](TrainConfig& c) { c.batch.accumulation = 1; }), {"batch.accumulation was 2, now 1"});
  expect_mentions(refusal([](TrainConfig& c) { c.run.seed = 12; }), {"run.seed was 11, now 12"});
  expect_mentions(refusal([](TrainConfig& c) { c.batch.batch_rows = 200; }), {"batch.rows was 160, now 200"});
  expect_mentions(refusal([](TrainConfig& c) { c.loss.label_smoothing = 0.1; }), {"loss.label_smoothing"});
  // Two keys at once: both named.
  expect_mentions(refusal([](TrainConfig& c) {
                    c.optim.weight_decay = 0.0;
                    c.optim.warmup_steps = 0;
                  }),
                  {"optim.weight_decay", "optim.warmup_steps"});
}

TEST_F(ResumeRefusal, MoreEpochsUnderACosineScheduleAreRefused) {
  // The cosine schedule spreads over every step of the run: another epoch
  // count changes the learning rate of the steps still to come.
  const std::string e = refusal([](TrainConfig& c) { c.run.epochs = 5; });
  expect_mentions(e, {"run.epochs was 3, now 5", "cosine"});
}

TEST_F(ResumeRefusal, OtherTrainingDataIsRefused) {
  Dataset relabelled = train;
  relabelled.records[17].labels[2] = relabelled.records[17].labels[2] == 0 ? 1 : 0;
  expect_mentions(refusal(resumable_config(out("run")), relabelled), {"training data differs", "the same count with other contents"});
  Dataset fewer = train;
  fewer.records.pop_back();
  expect_mentions(refusal(resumable_config(out("run")), fewer), {"training data differs", "59 records now, 60 then"});
}

TEST_F(ResumeRefusal, AnotherModelIsRefusedSayingWhichPart) {
  TrainConfig wider = resumable_config(out("run"));
  wider.model.convs[1].channels = 9;
  Model model = Model::initialize(wider.model, Vocabulary::protein(), LabelSet({"C", "E", "H"}, "-"), 1);
  Trainer trainer(wider, model, train, &valid);
  expect_mentions(message_of<CheckpointError>([&] { trainer.resume_from(resume_file("run")); }),
                  {"architecture differs", "7ch k3 d2", "9ch k3 d2"});
  TrainConfig same = resumable_config(out("run"));
  Model relabelled = Model::initialize(same.model, Vocabulary::protein(), LabelSet({"H", "E", "C"}, "-"), 1);
  Trainer other_labels(same, relabelled, train, &valid);
  expect_mentions(message_of<CheckpointError>([&] { other_labels.resume_from(resume_file("run")); }),
                  {"label set differs"});
}

TEST_F(ResumeRefusal, HostilePositionValuesAreRefusedByName) {
  // The position is JSON in the header (outside the checksum): a float, a
  // negative or a huge count must be refused before any conversion.
  const StFile original = read_safetensors(resume_file("run"));
  auto refused_with = [&](const char* key, const nlohmann::json& value) {
    StFile file = original;
    nlohmann::json position = nlohmann::json::parse(file.metadata.at("seqcnn_resume"));
    position[key] = value;
    file.metadata["seqcnn_resume"] = position.dump();
    const std::string path = out("edited.resume.safetensors");
    write_safetensors(path, file);
    return message_of<CheckpointError>([&] { load_resume_file(path); });
  };
  expect_mentions(refused_with("epoch", 1e300), {"edited.resume.safetensors", "'epoch'", "not an integer"});
  expect_mentions(refused_with("next_step", -4), {"'next_step'", "outside"});
  expect_mentions(refused_with("steps_taken", std::numeric_limits<int64_t>::max()), {"'steps_taken'", "outside"});
  expect_mentions(refused_with("micro_batches", "12"), {"'micro_batches'", "not an integer"});
  expect_mentions(refused_with("steps_skipped", 3), {"inconsistent"});
  expect_mentions(refused_with("version", 2), {"resume format version 2"});
}

TEST_F(ResumeRefusal, AModelCheckpointOrADamagedFileIsNotAResumeFile) {
  TrainConfig config = resumable_config(out("run"));
  Model model = fresh_model(config);
  Trainer trainer(config, model, train, &valid);
  expect_mentions(message_of<CheckpointError>([&] { trainer.resume_from(out("run") + "/last.safetensors"); }),
                  {"not a resume file", "last.resume.safetensors"});
  const std::string damaged = out("damaged.resume.safetensors");
  std::filesystem::copy_file(resume_file("run"), damaged);
  {
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-5, std::ios::end);
    f.put('\x7f');
  }
  expect_mentions(message_of<CheckpointError>([&] { trainer.resume_from(damaged); }), {damaged, "checksum"});
}

}  // namespace
}  // namespace seqcnn
