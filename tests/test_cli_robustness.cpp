// The program under the robustness options and faults: --resume continues a
// run to bitwise the same weights and refuses one it cannot continue
// exactly; --max-length/--too-long; empty files, labels and vocabularies a
// model does not know. Every fault exits non-zero with the reason, never
// a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.hpp"
#include "seqcnn/checkpoint.hpp"

namespace seqcnn {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::run_cli;

class CliRobustness : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("seqcnn_cli_robust_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write("train.txt",
          ">a\nACDEFGHIKLMNPQ\nHHHHEEEECCCC-C\n>b\nMKVLAAGIW\nCCHHHHHCC\n>c\nWYVTSRQ\nEEEECCC\n"
          ">d\nMSTNPKPQRKTKRNTNRRPQDVKFPGG\nCCCCCCCCCCCCCCCHHHHHHHEEECC\n>e\nGSHMKEL\nCCHHHHC\n");
    write("train.conll", "-DOCSTART- O\n\nLyon B-LOC\nbeat O\nPorto B-ORG\n\nMaria B-PER\nscored O\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  // A small protein run: seed preset (constant learning rate), dropout and
  // accumulation on, one sequence per batch.
  std::string train_flags(int epochs) const {
    return "--preset seed --epochs " + std::to_string(epochs) + " --threads 1 --quiet --no-test --train " +
           path("train.txt") + " --valid " + path("train.txt") +
           " --dropout 0.3 --accumulation 2 --batch-sequences 1 --checkpoint-every 2";
  }
  std::vector<float> weights(const std::string& checkpoint) const {
    const LoadedCheckpoint c = load_checkpoint(path(checkpoint));
    return {c.model.flat().begin(), c.model.flat().end()};
  }
  static void expect_error(const CliResult& r, std::initializer_list<std::string> parts) {
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("seqcnn: error:"), std::string::npos) << r.output;
    for (const std::string& p : parts) EXPECT_NE(r.output.find(p), std::string::npos) << "lacks \"" << p << "\": " << r.output;
  }

  fs::path dir_;
};

TEST_F(CliRobustness, ResumeContinuesARunToTheSameWeights) {
  const CliResult full = run_cli("train " + train_flags(3) + " --out " + path("full"));
  ASSERT_EQ(full.exit_code, 0) << full.output;
  const CliResult first = run_cli("train " + train_flags(1) + " --out " + path("part"));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  // The resume file carries the config: only what changes is given.
  const CliResult rest = run_cli("train --resume " + path("part/last.resume.safetensors") + " --epochs 3 --quiet --no-test");
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_NE(rest.output.find("resuming"), std::string::npos) << rest.output;
  EXPECT_TRUE(weights("part/last.safetensors") == weights("full/last.safetensors"));
  EXPECT_TRUE(weights("part/best.safetensors") == weights("full/best.safetensors"));
  EXPECT_EQ(load_checkpoint(path("part/last.safetensors")).info.step, load_checkpoint(path("full/last.safetensors")).info.step);
  // The log continues the first run's: one start line per invocation.
  std::ifstream log(path("part/train.jsonl"));
  int starts = 0;
  for (std::string line; std::getline(log, line);) starts += line.find("\"event\":\"start\"") != std::string::npos;
  EXPECT_EQ(starts, 2);
}

TEST_F(CliRobustness, ResumeThatCannotBeExactIsRefusedNamingWhatDiffers) {
  ASSERT_EQ(run_cli("train " + train_flags(1) + " --out " + path("part")).exit_code, 0);
  const std::string resume = path("part/last.resume.safetensors");
  expect_error(run_cli("train --resume " + resume + " --lr 0.01 --quiet --no-test"), {resume, "optim.lr was 0.001, now 0.01"});
  expect_error(run_cli("train --resume " + resume + " --dropout 0.1 --accumulation 1 --quiet --no-test"),
               {"model.dropout was 0.3, now 0.1", "batch.accumulation was 2, now 1"});
  write("other.txt", ">z\nMKVLAAG\nCCHHHEE\n");
  expect_error(run_cli("train --resume " + resume + " --train " + path("other.txt") + " --quiet --no-test"), {"training data differs"});
  expect_error(run_cli("train --resume " + resume + " --preset default --quiet"), {"--preset cannot be combined with --resume"});
  expect_error(run_cli("train --resume " + path("part/last.safetensors") + " --quiet"), {"not a resume file"});
}

TEST_F(CliRobustness, MaxLengthStopsOrCrops) {
  const std::string flags = "--preset seed --epochs 1 --threads 1 --quiet --no-test --valid none --train " + path("train.txt");
  const CliResult stop = run_cli("train " + flags + " --max-length 10 --out " + path("stop"));
  expect_error(stop, {path("train.txt") + ":1", "record 'a'", "length 14", "data.max_length 10"});
  EXPECT_FALSE(fs::exists(path("stop/last.safetensors")));
  const CliResult crop = run_cli("train " + flags + " --max-length 10 --too-long crop --out " + path("crop"));
  EXPECT_EQ(crop.exit_code, 0) << crop.output;
  EXPECT_TRUE(fs::exists(path("crop/last.safetensors")));
}

TEST_F(CliRobustness, EmptyFilesAreErrorsNamingTheSplit) {
  write("empty.txt", "");
  const std::string flags = "--preset seed --epochs 1 --threads 1 --quiet --out " + path("run");
  expect_error(run_cli("train " + flags + " --train " + path("empty.txt") + " --valid none --test none"),
               {"training split", path("empty.txt"), "no records"});
  expect_error(run_cli("train " + flags + " --train " + path("train.txt") + " --valid " + path("empty.txt") + " --test none"),
               {"validation split", path("empty.txt"), "no records"});
  write("dashes.txt", ">u\nACDE\n----\n");
  expect_error(run_cli("train " + flags + " --train " + path("train.txt") + " --valid none --test " + path("dashes.txt")),
               {"test split", path("dashes.txt"), "counted label"});
  EXPECT_FALSE(fs::exists(path("run/last.safetensors")));
}

TEST_F(CliRobustness, EvalAndPredictRefuseDataTheModelDoesNotKnow) {
  ASSERT_EQ(run_cli("train --preset seed --epochs 1 --threads 1 --quiet --no-test --valid none --train " + path("train.txt") +
                    " --out " + path("protein")).exit_code, 0);
  ASSERT_EQ(run_cli("train --preset seed --epochs 1 --threads 1 --quiet --no-test --valid none --test none --format conll "
                    "--train " + path("train.conll") + " --out " + path("token")).exit_code, 0);
  const std::string protein = path("protein/last.safetensors"), token = path("token/last.safetensors");

  // A label outside the model's set.
  write("eval.txt", ">v\nACDEF\nHHXEC\n");
  expect_error(run_cli("eval --threads 1 --model " + protein + " --data " + path("eval.txt")),
               {path("eval.txt") + ":3", "record 'v'", "position 3", "'X'", "not in the label set"});
  // Nothing to score.
  write("dashes.txt", ">u\nACDE\n----\n");
  expect_error(run_cli("eval --threads 1 --model " + protein + " --data " + path("dashes.txt")), {path("dashes.txt"), "nothing to score"});
  // CoNLL model on protein data, protein model on CoNLL data.
  write("in.fasta", ">q\nMKVLAAG\n");
  expect_error(run_cli("predict --threads 1 --model " + token + " --input " + path("in.fasta")),
               {path("in.fasta"), "vocabulary mismatch", "token vocabulary"});
  expect_error(run_cli("eval --threads 1 --model " + token + " --data " + path("train.txt")),
               {"vocabulary mismatch", "token vocabulary"});
  expect_error(run_cli("eval --threads 1 --model " + protein + " --data " + path("train.conll") + " --format conll"),
               {"vocabulary mismatch", "protein alphabet"});
  expect_error(run_cli("predict --threads 1 --model " + protein + " --input " + path("train.conll") + " --format conll"),
               {"vocabulary mismatch", "protein alphabet"});
  // A CoNLL model on another corpus entirely.
  write("other.conll", "Madrid B-LOC\nwon O\n");
  expect_error(run_cli("eval --threads 1 --model " + token + " --data " + path("other.conll") + " --format conll"),
               {"vocabulary mismatch", "none of the 2 tokens"});
  // A resume file is usable as the model it holds.
  const CliResult from_resume = run_cli("eval --threads 1 --model " + path("protein/last.resume.safetensors") + " --data " +
                                        path("train.txt"));
  EXPECT_EQ(from_resume.exit_code, 0) << from_resume.output;
}

}  // namespace
}  // namespace seqcnn
