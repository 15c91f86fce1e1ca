// AdamW (PyTorch's definition: bias-corrected, eps outside the sqrt,
// decoupled decay per parameter group) and the deterministic sum of squares.
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/adamw.hpp"
#include "grad_check.hpp"
#include "xent_fixture.hpp"

namespace seqcnn {
namespace {

using testing::six_digits;

// One scalar parameter through AdamW(lr 1e-3, betas (0.9, 0.999), eps 1e-8).
template <class T>
struct ScalarAdam {
  T w, m = 0, v = 0;
  int64_t step = 0;
  explicit ScalarAdam(T w0) : w(w0) {}
  void update(T g) {
    cpu::AdamWHyper hyper;
    hyper.step = ++step;
    cpu::adamw_update<T>(1, &w, &g, &m, &v, hyper);
  }
};

TEST(CpuAdamW, BR14_EpsilonOutsideTheSqrtAfterBiasCorrection) {
  ScalarAdam<double> tiny(0.0);
  tiny.update(1e-7);
  EXPECT_TRUE(six_digits(-tiny.w, 9.09091e-4));  // TF's eps-hat form: 2.40253e-4; eps inside sqrt: 1e-6
  ScalarAdam<double> half(0.0);
  half.update(0.5);
  EXPECT_TRUE(six_digits(-half.w, 1.00000e-3));  // without bias correction: 3.16228e-3
  EXPECT_NEAR(-half.w, 9.99999980e-4, 1e-12);
  ScalarAdam<double> two(1.0);
  two.update(0.5);
  two.update(-0.25);
  EXPECT_TRUE(six_digits(two.w, 0.998734));
  std::printf("BR-14: g=1e-7 -> %.6g, g=0.5 -> %.9g, two steps -> %.6f\n", -tiny.w, -half.w, two.w);
}

TEST(CpuAdamW, BR14_FloatAgreesWithDouble) {
  ScalarAdam<float> two(1.0f);
  two.update(0.5f);
  two.update(-0.25f);
  EXPECT_TRUE(six_digits(static_cast<double>(two.w), 0.998734));
}

// BR-01: an update on a zero gradient still moves the parameter by the old
// momentum. adamw_update does exactly that, so skipping an all-masked step
// is the trainer's job (it must not call this at all).
TEST(CpuAdamW, BR01_ZeroGradientStepStillMovesTheParameterSoTheCallerMustSkipIt) {
  ScalarAdam<double> w(0.0);
  w.update(1.0);
  EXPECT_TRUE(six_digits(w.w, -0.00100000));
  const ScalarAdam<double> skipped = w;  // what a skipped step leaves: w, moments and step count
  w.update(0.0);
  EXPECT_TRUE(six_digits(w.w, -0.00167006));
  EXPECT_TRUE(six_digits(skipped.w - w.w, 6.70058e-4));
  EXPECT_EQ(skipped.step, 1);
  std::printf("BR-01 skip: after step 1 %.8f; a zero-gradient step 2 would give %.8f\n", skipped.w, w.w);
}

TEST(CpuAdamW, EachParameterGroupGetsItsOwnDecay) {
  // [weights | embedding | biases]; g = 0 at step 1 leaves only the decay.
  std::vector<double> p = {2.0, 2.0, 2.0, 2.0}, g(4, 0.0), m(4, 0.0), v(4, 0.0);
  cpu::AdamWHyper hyper;
  hyper.lr = 0.1;
  hyper.weights_end = 2;
  hyper.embedding_end = 3;
  hyper.decay_weights = 0.5;
  hyper.decay_embedding = 0.25;
  hyper.decay_bias = 0.0;
  cpu::adamw_update<double>(4, p.data(), g.data(), m.data(), v.data(), hyper);
  EXPECT_EQ(p, (std::vector<double>{2.0 * (1 - 0.05), 2.0 * (1 - 0.05), 2.0 * (1 - 0.025), 2.0}));
}

TEST(CpuAdamW, MatchesThePaperFormOverSeveralStepsWithClipScale) {
  std::mt19937_64 rng(8);
  const size_t n = 50;
  std::vector<double> p = testing::uniform_values(rng, n), m(n, 0.0), v(n, 0.0);
  std::vector<double> ref_p = p, ref_m(n, 0.0), ref_v(n, 0.0);
  cpu::AdamWHyper hyper;
  hyper.lr = 0.01;
  hyper.beta1 = 0.8;
  hyper.beta2 = 0.99;
  hyper.eps = 1e-6;
  hyper.weights_end = 20;
  hyper.embedding_end = 30;
  hyper.decay_weights = 0.1;
  hyper.grad_scale = 0.5;
  for (int64_t t = 1; t <= 5; ++t) {
    const std::vector<double> g = testing::uniform_values(rng, n);
    hyper.step = t;
    cpu::adamw_update<double>(static_cast<int64_t>(n), p.data(), g.data(), m.data(), v.data(), hyper);
    for (size_t i = 0; i < n; ++i) {
      const double gi = 0.5 * g[i];
      const double decay = i < 20 ? 0.1 : 0.0;
      ref_p[i] -= hyper.lr * decay * ref_p[i];
      ref_m[i] = 0.8 * ref_m[i] + 0.2 * gi;
      ref_v[i] = 0.99 * ref_v[i] + 0.01 * gi * gi;
      const double m_hat = ref_m[i] / (1 - std::pow(0.8, static_cast<double>(t)));
      const double v_hat = ref_v[i] / (1 - std::pow(0.99, static_cast<double>(t)));
      ref_p[i] -= hyper.lr * m_hat / (std::sqrt(v_hat) + 1e-6);
    }
  }
  EXPECT_LE(testing::normwise_relative_error(p, ref_p), 1e-13);
  EXPECT_LE(testing::normwise_relative_error(m, ref_m), 1e-13);
  EXPECT_LE(testing::normwise_relative_error(v, ref_v), 1e-13);
}

TEST(CpuAdamW, SumOfSquaresIsExactForSmallIntegersAcrossChunks) {
  std::vector<float> values(100003);
  double expected = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(static_cast<int>(i % 7) - 3);
    expected += static_cast<double>(values[i]) * static_cast<double>(values[i]);
  }
  EXPECT_EQ(cpu::sum_of_squares<float>(static_cast<int64_t>(values.size()), values.data()), expected);
  EXPECT_EQ(cpu::sum_of_squares<double>(0, nullptr), 0.0);
}

}  // namespace
}  // namespace seqcnn
