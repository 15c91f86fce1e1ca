// The seqcnn program as a user runs it: train, eval, predict on small
// files; bad input exits non-zero with the file and line named, and
// leaves no output file behind.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

Result run_cli(const std::string& args) {
  const std::string command = std::string(SEQCNN_CLI_PATH) + " " + args + " 2>&1";
  Result r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seqcnn_cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // A tiny labelled set with one unknown label ('-').
  std::string tiny_train() const {
    return write("train.txt",
                 ">a\nACDEFGHIKLMNPQ\nHHHHEEEECCCC-C\n>b\nMKVLAAGIW\nCCHHHHHCC\n>c\nWYVTSRQ\nEEEECCC\n");
  }
  std::string common_flags() const {
    return "--preset seed --epochs 2 --threads 1 --quiet --train " + tiny_train() + " --valid " + path("train.txt") +
           " --test " + path("train.txt");
  }
  fs::path dir_;
};

TEST_F(Cli, TrainEvalPredictRoundTrip) {
  const Result t = run_cli("train " + common_flags() + " --out " + path("run"));
  ASSERT_EQ(t.exit_code, 0) << t.output;
  EXPECT_NE(t.output.find("test accuracy (Q3):"), std::string::npos) << t.output;
  for (const char* f : {"best.safetensors", "last.safetensors", "train.jsonl"})
    EXPECT_TRUE(fs::exists(path("run/") + f)) << f;

  const Result e = run_cli("eval --model " + path("run/best.safetensors") + " --data " + path("train.txt") + " --threads 1");
  ASSERT_EQ(e.exit_code, 0) << e.output;
  EXPECT_NE(e.output.find("precision"), std::string::npos);
  EXPECT_NE(e.output.find("confusion"), std::string::npos);

  write("in.fasta", ">q1 some protein\nMKV\nLAAG\n>q2\nwyb\n");
  const Result p = run_cli("predict --model " + path("run/best.safetensors") + " --input " + path("in.fasta") +
                           " --output " + path("out.txt") + " --probabilities " + path("probs.tsv") + " --threads 1");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  const std::string out = read("out.txt");
  std::istringstream lines(out);
  std::string header, seq, labels;
  std::getline(lines, header);
  std::getline(lines, seq);
  std::getline(lines, labels);
  EXPECT_EQ(header, ">q1 some protein");
  EXPECT_EQ(seq, "MKVLAAG");
  ASSERT_EQ(labels.size(), 7u);
  for (char c : labels) EXPECT_NE(std::string("CEH").find(c), std::string::npos) << labels;
  const std::string probs = read("probs.tsv");
  EXPECT_EQ(probs.rfind("id\tposition\tresidue\tpredicted\tp_C\tp_E\tp_H\n", 0), 0u) << probs.substr(0, 80);
  EXPECT_EQ(std::count(probs.begin(), probs.end(), '\n'), 1 + 7 + 3);
}

TEST_F(Cli, BadInputNamesFileAndLineAndWritesNothing) {
  write("bad.txt", ">a\nACDE\nHHH\n");
  const Result r = run_cli("train --preset seed --epochs 1 --quiet --train " + path("bad.txt") +
                           " --valid none --test none --out " + path("run"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(path("bad.txt")), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(":3"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("run/last.safetensors")));
}

TEST_F(Cli, UnknownLabelSymbolIsAnError) {
  tiny_train();
  write("valid.txt", ">v\nACDE\nHHXH\n");
  const Result r = run_cli("train --preset seed --epochs 1 --quiet --train " + path("train.txt") + " --valid " +
                           path("valid.txt") + " --test none --out " + path("run"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("valid.txt"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'X'"), std::string::npos) << r.output;
}

TEST_F(Cli, ValidPaddingInAConfigFileIsRejected) {
  write("cfg.json", R"({"model": {"convs": [{"channels": 8, "kernel": 3, "padding": "valid"}]}})");
  const Result r = run_cli("train --config " + path("cfg.json") + " --train " + tiny_train() + " --out " + path("run"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("padding"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("run")));
}

TEST_F(Cli, CudaWithoutAGpuIsAClearErrorAndAutoFallsBack) {
  const Result cuda = run_cli("train " + common_flags() + " --device cuda --out " + path("run_cuda"));
  if (cuda.exit_code == 0) GTEST_SKIP() << "a CUDA device is present; this test covers machines without one";
  EXPECT_NE(cuda.output.find("no CUDA device"), std::string::npos) << cuda.output;
  const Result autod = run_cli("train " + common_flags() + " --device auto --out " + path("run_auto"));
  EXPECT_EQ(autod.exit_code, 0) << autod.output;
  EXPECT_NE(autod.output.find("device: cpu (auto:"), std::string::npos) << autod.output;
}

TEST_F(Cli, MissingModelFileIsAnError) {
  const Result r = run_cli("eval --model " + path("nope.safetensors") + " --data " + tiny_train());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("nope.safetensors"), std::string::npos) << r.output;
}

}  // namespace
