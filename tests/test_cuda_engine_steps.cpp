// Whole steps of the CUDA engine against the CPU engine, beyond the first:
// the loss and every gradient after 1 and after 10 optimiser steps, a token
// vocabulary of thousands of words (the sorted-segment embedding gradient),
// batches that grow mid-run (buffers reallocated, graphs recaptured), a
// batch of 0 rows, and gradients bitwise identical across two engines.
// Every test skips, with the reason, when no GPU is usable.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cuda_test_support.hpp"

#if defined(SEQCNN_HAVE_CUDA)
#include "../cuda/cuda_engine.hpp"
#include "../cuda/embedding.hpp"
#include "cuda_engine_fixture.hpp"

namespace seqcnn::testing {
namespace {

// Trains `steps` optimiser steps (call 2 all-masked when there are enough).
void train_steps(const EngineFixture& f, Engine& engine, int steps) {
  int taken = 0;
  for (int call = 0; taken < steps; ++call) {
    const bool masked = call == 2;
    engine.train_step(StepData(f, call, masked).request);
    taken += masked ? 0 : 1;
  }
}

// The next step's loss and every gradient, after `steps` steps on each engine.
void expect_gradients_match_after(const EngineFixture& f, int steps) {
  auto cpu_engine = make_cpu_engine(f.model, f.options);
  auto gpu_engine = make_cuda_engine(f.model, f.options);
  train_steps(f, *cpu_engine, steps);
  train_steps(f, *gpu_engine, steps);
  expect_close_per_tensor(f.model, parameters_of(*gpu_engine, f.model), parameters_of(*cpu_engine, f.model),
                          "parameters");
  const StepData next(f, 40, false);
  std::vector<float> g_cpu(static_cast<size_t>(f.model.parameter_count())), g_gpu(g_cpu.size());
  const double loss_cpu = cpu_engine->loss_and_gradients(next.request, g_cpu);
  const double loss_gpu = gpu_engine->loss_and_gradients(next.request, g_gpu);
  EXPECT_LE(relative(loss_gpu, loss_cpu), kEngineParity) << loss_gpu << " vs " << loss_cpu;
  expect_close_per_tensor(f.model, g_gpu, g_cpu, "gradient");
}

class CudaEngineAfterSteps : public ::testing::TestWithParam<int> {};

TEST_P(CudaEngineAfterSteps, LossAndEveryGradientMatchTheCpuEngine) {
  SEQCNN_REQUIRE_CUDA();
  expect_gradients_match_after(EngineFixture(), GetParam());
}

std::string steps_name(const ::testing::TestParamInfo<int>& info) {
  return "After" + std::to_string(info.param) + "Steps";
}

INSTANTIATE_TEST_SUITE_P(Steps, CudaEngineAfterSteps, ::testing::Values(1, 10), steps_name);

TEST(CudaEngineLargeVocabulary, StepsMatchTheCpuEngine) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f(3000);
  ASSERT_EQ(f.model.vocab().size(), 3002);
  // 3002 x 7 floats do not fit a shared-memory table: the gradient sorts rows by token.
  ASSERT_FALSE(cuda::embedding_backward_uses_shared_tables(f.model.config().embed_dim, f.model.vocab().size()));
  expect_gradients_match_after(f, 0);
  expect_gradients_match_after(f, 4);
}

TEST(CudaEngineGrowingBatches, GraphReplayEqualsEagerAndTheCpuEngine) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f;
  auto graphed = cuda::make_cuda_engine(f.model, f.options, cuda::CudaEngineOptions{true});
  auto eager = cuda::make_cuda_engine(f.model, f.options, cuda::CudaEngineOptions{false});
  auto cpu_engine = make_cpu_engine(f.model, f.options);
  // Repeated budgets get captured; a larger one reallocates every buffer
  // (graphs dropped), then the smaller shape must be captured anew.
  const int64_t budgets[] = {320, 320, 320, 700, 700, 700, 320, 320, 1500, 320};
  for (int s = 0; s < 10; ++s) {
    const StepData step(f, s, false, budgets[s]);
    graphed->train_step(step.request);
    eager->train_step(step.request);
    cpu_engine->train_step(step.request);
  }
  const cuda::CudaGraphStats stats = cuda::graph_stats(*graphed);
  EXPECT_EQ(stats.capture_error, "");
  EXPECT_GT(stats.replays, 0);
  const std::vector<float> a = parameters_of(*graphed, f.model), b = parameters_of(*eager, f.model);
  EXPECT_TRUE(bitwise_equal(a, b)) << "graph replay and eager launches differ";
  expect_close_per_tensor(f.model, a, parameters_of(*cpu_engine, f.model), "parameters after 10 steps");
  const StepMetrics ma = graphed->drain_metrics(), mc = cpu_engine->drain_metrics();
  EXPECT_EQ(ma.steps_taken, 10);
  EXPECT_EQ(ma.counted, mc.counted);
  EXPECT_LE(relative(ma.loss_sum, mc.loss_sum), kEngineParity);
}

TEST(CudaEngineEdgeCases, ZeroRowBatchGivesNoLogitsAndLeavesTheEngineUsable) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f;
  auto gpu_engine = make_cuda_engine(f.model, f.options);
  Batch empty;
  empty.rows = 0;
  empty.halo = f.model.halo_rows();
  std::vector<float> logits(5, 1.0f);
  gpu_engine->forward_logits(empty, logits);  // the first batch the engine sees
  EXPECT_TRUE(logits.empty());
  auto cpu_engine = make_cpu_engine(f.model, f.options);
  const Batch batch = f.batch({1, 2});
  std::vector<float> a, b;
  gpu_engine->forward_logits(batch, a);
  cpu_engine->forward_logits(batch, b);
  EXPECT_LE(normwise_relative_error(a, b), kEngineParity);
}

TEST(CudaEngineDeterminism, GradientsAreBitwiseIdenticalAcrossEngines) {
  SEQCNN_REQUIRE_CUDA();
  for (int words : {0, 3000}) {
    const EngineFixture f(words);
    auto first = make_cuda_engine(f.model, f.options);
    auto second = make_cuda_engine(f.model, f.options);
    const StepData step(f, 3, false);
    std::vector<float> g1(static_cast<size_t>(f.model.parameter_count())), g2(g1.size());
    const double l1 = first->loss_and_gradients(step.request, g1);
    const double l2 = second->loss_and_gradients(step.request, g2);
    EXPECT_EQ(std::memcmp(&l1, &l2, sizeof(double)), 0) << words << " words";
    EXPECT_TRUE(bitwise_equal(g1, g2)) << words << " words";
    // The same engine again: no state leaks from one step into the next.
    std::vector<float> g3(g1.size());
    first->loss_and_gradients(step.request, g3);
    EXPECT_TRUE(bitwise_equal(g1, g3)) << words << " words, repeated";
  }
}

}  // namespace
}  // namespace seqcnn::testing

#else  // built without CUDA

TEST(CudaEngineSteps, SkipsWithoutCuda) { SEQCNN_REQUIRE_CUDA(); }

#endif
