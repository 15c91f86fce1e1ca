// BR-12 at the engine: a batch holding a token id outside the vocabulary
// (id V, or a label sentinel -1/-100 fed as input) is refused by name
// before any work, on every engine, and changes no state: parameters,
// AdamW moments and the step count stay bit-identical, and the engine
// trains on as before. (Batches built by make_batch are checked earlier
// still; this guards hand-built batches and keeps the GPU from reading
// outside its table.) The CUDA case skips, with the reason, without a GPU.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda_engine_fixture.hpp"
#include "cuda_test_support.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn::testing {
namespace {

struct EngineState {
  std::vector<float> params, m, v;
  int64_t steps = -1;
  bool operator==(const EngineState&) const = default;
};

EngineState state_of(Engine& engine, const Model& model) {
  EngineState s;
  const auto n = static_cast<size_t>(model.parameter_count());
  s.params = parameters_of(engine, model);
  s.m.resize(n);
  s.v.resize(n);
  engine.get_optimizer_state(s.m, s.v, s.steps);
  return s;
}

std::unique_ptr<Engine> engine_named(const std::string& device, const EngineFixture& f) {
#if defined(SEQCNN_HAVE_CUDA)
  if (device == "Cuda") return make_cuda_engine(f.model, f.options);
#endif
  (void)device;
  return make_cpu_engine(f.model, f.options);
}

// The first real, learning row of a batch.
size_t first_real_row(const Batch& b) {
  for (size_t r = 0; r < b.row_is_real.size(); ++r)
    if (b.row_is_real[r] != 0) return r;
  return b.row_is_real.size();
}

class EngineBadBatch : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "Cuda") SEQCNN_REQUIRE_CUDA();
  }
};

TEST_P(EngineBadBatch, OutOfRangeTokenIdIsRefusedAndMovesNothing) {
  const EngineFixture f;
  auto engine = engine_named(GetParam(), f);
  engine->train_step(StepData(f, 0, false).request);
  (void)engine->drain_metrics();
  const EngineState before = state_of(*engine, f.model);
  ASSERT_EQ(before.steps, 1);
  const int vocab = f.model.vocab().size();

  for (const int32_t bad : {vocab, -1, -100}) {
    for (const bool masked : {false, true}) {  // an all-masked step is checked too
      StepData step(f, 1, masked);
      Batch& b = step.batches.back();
      const size_t row = first_real_row(b);
      ASSERT_LT(row, b.row_is_real.size());
      b.tokens[row] = bad;
      try {
        engine->train_step(step.request);
        ADD_FAILURE() << "token id " << bad << " was accepted";
      } catch (const InputError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("row " + std::to_string(row)), std::string::npos) << m;
        EXPECT_NE(m.find("token id " + std::to_string(bad)), std::string::npos) << m;
        EXPECT_NE(m.find("[0, " + std::to_string(vocab) + ")"), std::string::npos) << m;
      }
      std::vector<float> grads(static_cast<size_t>(f.model.parameter_count()));
      EXPECT_THROW(engine->loss_and_gradients(step.request, grads), InputError);
      std::vector<float> logits;
      EXPECT_THROW(engine->forward_logits(b, logits), InputError);
      EXPECT_TRUE(state_of(*engine, f.model) == before) << "token id " << bad << (masked ? " (all-masked)" : "");
    }
  }
  const StepMetrics refused = engine->drain_metrics();
  EXPECT_EQ(refused.steps_taken, 0);
  EXPECT_EQ(refused.steps_skipped, 0);

  // The engine is not poisoned: the next good step trains as on a fresh twin.
  auto twin = engine_named(GetParam(), f);
  twin->train_step(StepData(f, 0, false).request);
  engine->train_step(StepData(f, 1, false).request);
  twin->train_step(StepData(f, 1, false).request);
  EXPECT_TRUE(state_of(*engine, f.model) == state_of(*twin, f.model));
}

// "Cuda" in the name puts the GPU case in gpu-check.sh's '*Cuda*' filter.
std::string engine_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

INSTANTIATE_TEST_SUITE_P(Engines, EngineBadBatch, ::testing::Values("Cpu", "Cuda"), engine_name);

}  // namespace
}  // namespace seqcnn::testing
