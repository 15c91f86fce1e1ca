// The CUDA engine against the CPU engine on a small model with dropout,
// label smoothing, class weights, clipping and a warm-up + cosine schedule:
// the loss and every gradient of one step, ten steps of training (with an
// all-masked step among them), the non-finite guard, and determinism (two
// runs, and graph replay against eager launches, bitwise identical). Every
// test skips, with the reason, when no GPU is usable.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "cuda_test_support.hpp"

#if defined(SEQCNN_HAVE_CUDA)
#include "../cuda/cuda_engine.hpp"
#include "cuda_engine_fixture.hpp"

namespace seqcnn::testing {
namespace {

constexpr double kParity = kEngineParity;

TEST(CudaEngineParity, LossAndEveryGradientOfOneStepMatchTheCpuEngine) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f;
  auto cpu_engine = make_cpu_engine(f.model, f.options);
  auto gpu_engine = make_cuda_engine(f.model, f.options);
  const StepData step(f, 0, false);
  ASSERT_GT(step.request.counted_weight, 0.0);
  std::vector<float> g_cpu(static_cast<size_t>(f.model.parameter_count())), g_gpu(g_cpu.size());
  const double loss_cpu = cpu_engine->loss_and_gradients(step.request, g_cpu);
  const double loss_gpu = gpu_engine->loss_and_gradients(step.request, g_gpu);
  EXPECT_LE(relative(loss_gpu, loss_cpu), kParity) << loss_gpu << " vs " << loss_cpu;
  expect_close_per_tensor(f.model, g_gpu, g_cpu, "gradient");
}

TEST(CudaEngineParity, TenTrainingStepsMatchTheCpuEngine) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f;
  auto cpu_engine = make_cpu_engine(f.model, f.options);
  auto gpu_engine = make_cuda_engine(f.model, f.options);
  for (int s = 0; s < 11; ++s) {
    const StepData step(f, s, s == 4);  // call 4 is all-masked: skipped, no step taken
    cpu_engine->train_step(step.request);
    gpu_engine->train_step(step.request);
  }
  expect_close_per_tensor(f.model, parameters_of(*gpu_engine, f.model), parameters_of(*cpu_engine, f.model),
                          "parameters after 10 steps");
  const size_t n = static_cast<size_t>(f.model.parameter_count());
  std::vector<float> m_cpu(n), v_cpu(n), m_gpu(n), v_gpu(n);
  int64_t taken_cpu = -1, taken_gpu = -1;
  cpu_engine->get_optimizer_state(m_cpu, v_cpu, taken_cpu);
  gpu_engine->get_optimizer_state(m_gpu, v_gpu, taken_gpu);
  EXPECT_EQ(taken_gpu, 10);
  EXPECT_EQ(taken_gpu, taken_cpu);
  EXPECT_LE(normwise_relative_error(m_gpu, m_cpu), kParity);
  EXPECT_LE(normwise_relative_error(v_gpu, v_cpu), kParity);

  const StepMetrics a = gpu_engine->drain_metrics(), b = cpu_engine->drain_metrics();
  EXPECT_LE(relative(a.loss_sum, b.loss_sum), kParity);
  EXPECT_EQ(a.counted, b.counted);
  EXPECT_EQ(a.correct, b.correct);
  EXPECT_EQ(a.steps_taken, b.steps_taken);
  EXPECT_EQ(a.steps_skipped, 1);
  EXPECT_EQ(a.steps_skipped, b.steps_skipped);
  EXPECT_EQ(a.nonfinite_steps, 0);
  EXPECT_LE(relative(a.last_grad_norm, b.last_grad_norm), kParity);
  const StepMetrics empty = gpu_engine->drain_metrics();
  EXPECT_EQ(empty.steps_taken, 0);
  EXPECT_EQ(empty.loss_sum, 0.0);
}

TEST(CudaEngineParity, NonFiniteStepIsRefusedLikeOnTheCpu) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f;
  auto cpu_engine = make_cpu_engine(f.model, f.options);
  auto gpu_engine = make_cuda_engine(f.model, f.options);
  std::vector<float> poisoned(f.model.flat().begin(), f.model.flat().end());
  poisoned[static_cast<size_t>(f.model.param("dense.bias").offset)] = INFINITY;  // logits +inf: loss NaN
  cpu_engine->set_parameters(poisoned);
  gpu_engine->set_parameters(poisoned);
  for (int s = 0; s < 3; ++s) {
    const StepData step(f, s, s == 0);
    cpu_engine->train_step(step.request);
    gpu_engine->train_step(step.request);
  }
  const std::vector<float> after = parameters_of(*gpu_engine, f.model);
  EXPECT_EQ(std::memcmp(after.data(), poisoned.data(), after.size() * sizeof(float)), 0) << "parameters moved";
  const StepMetrics a = gpu_engine->drain_metrics(), b = cpu_engine->drain_metrics();
  EXPECT_EQ(a.nonfinite_steps, 2);
  EXPECT_EQ(a.nonfinite_steps, b.nonfinite_steps);
  EXPECT_EQ(a.first_nonfinite_step, 1);  // call 0 was all-masked
  EXPECT_EQ(a.first_nonfinite_step, b.first_nonfinite_step);
  EXPECT_EQ(a.steps_taken, 0);
  EXPECT_EQ(a.steps_skipped, 1);
  EXPECT_FALSE(std::isfinite(a.first_nonfinite_loss));
  EXPECT_EQ(std::isnan(a.first_nonfinite_loss), std::isnan(b.first_nonfinite_loss));
  EXPECT_EQ(std::isnan(a.first_nonfinite_grad_norm), std::isnan(b.first_nonfinite_grad_norm));
  EXPECT_FALSE(a.first_nonfinite_tensors.empty());
  EXPECT_EQ(a.first_nonfinite_tensors, b.first_nonfinite_tensors);
  int64_t taken = -1;
  const size_t n = static_cast<size_t>(f.model.parameter_count());
  std::vector<float> m(n), v(n);
  gpu_engine->get_optimizer_state(m, v, taken);
  EXPECT_EQ(taken, 0);
  EXPECT_EQ(normwise_relative_error(m, std::vector<float>(n, 0.0f)), 0.0);
}

TEST(CudaEngineParity, ForwardLogitsMatchTheCpuEngine) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f;
  auto cpu_engine = make_cpu_engine(f.model, f.options);
  auto gpu_engine = make_cuda_engine(f.model, f.options);
  const Batch batch = f.batch({0, 1, 2, 3});
  std::vector<float> a, b;
  gpu_engine->forward_logits(batch, a);
  cpu_engine->forward_logits(batch, b);
  ASSERT_EQ(a.size(), static_cast<size_t>(batch.rows * f.model.classes()));
  EXPECT_LE(normwise_relative_error(a, b), kParity);
}

// Runs `steps` training steps and returns the parameters.
std::vector<float> train(const EngineFixture& f, Engine& engine, int steps) {
  for (int s = 0; s < steps; ++s) engine.train_step(StepData(f, s, s == 2).request);
  return parameters_of(engine, f.model);
}

TEST(CudaEngineDeterminism, TwoRunsAreBitwiseIdentical) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f;
  auto first = make_cuda_engine(f.model, f.options);
  auto second = make_cuda_engine(f.model, f.options);
  const std::vector<float> a = train(f, *first, 7), b = train(f, *second, 7);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  const StepMetrics ma = first->drain_metrics(), mb = second->drain_metrics();
  EXPECT_EQ(std::memcmp(&ma.loss_sum, &mb.loss_sum, sizeof(double)), 0);
  EXPECT_EQ(ma.correct, mb.correct);
}

TEST(CudaEngineDeterminism, GraphReplayEqualsEagerLaunchesBitwise) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f;
  auto graphed = cuda::make_cuda_engine(f.model, f.options, cuda::CudaEngineOptions{true});
  auto eager = cuda::make_cuda_engine(f.model, f.options, cuda::CudaEngineOptions{false});
  const std::vector<float> a = train(f, *graphed, 8), b = train(f, *eager, 8);
  const cuda::CudaGraphStats gs = cuda::graph_stats(*graphed), es = cuda::graph_stats(*eager);
  EXPECT_EQ(gs.capture_error, "");
  EXPECT_GT(gs.replays, 0) << "fixed-shape steps should replay a captured graph";
  EXPECT_EQ(es.replays, 0);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST(CudaEngineParity, OptimizerStateRoundTripsIntoAFreshEngine) {
  SEQCNN_REQUIRE_CUDA();
  const EngineFixture f;
  auto original = make_cuda_engine(f.model, f.options);
  train(f, *original, 4);
  const size_t n = static_cast<size_t>(f.model.parameter_count());
  std::vector<float> m(n), v(n);
  int64_t taken = 0;
  original->get_optimizer_state(m, v, taken);
  auto resumed = make_cuda_engine(f.model, f.options);
  resumed->set_parameters(parameters_of(*original, f.model));
  resumed->set_optimizer_state(m, v, taken);
  const StepData next(f, 5, false);
  original->train_step(next.request);
  resumed->train_step(next.request);
  const std::vector<float> a = parameters_of(*original, f.model), b = parameters_of(*resumed, f.model);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace seqcnn::testing

#else  // built without CUDA

TEST(CudaEngineParity, SkipsWithoutCuda) { SEQCNN_REQUIRE_CUDA(); }

#endif
