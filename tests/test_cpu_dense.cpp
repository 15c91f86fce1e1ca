// Dense layer over all rows: forward by the definition, backward by
// central differences, dh overwritten and dW/db accumulated.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/dense.hpp"
#include "grad_check.hpp"

namespace seqcnn {
namespace {

struct DenseProblem {
  int64_t rows = 37;
  int in = 6, classes = 4;
  std::vector<double> h, w, b;
};

DenseProblem draw_dense(uint64_t seed, int64_t rows = 37) {
  std::mt19937_64 rng(seed);
  DenseProblem p;
  p.rows = rows;
  p.h = testing::uniform_values(rng, static_cast<size_t>(p.rows * p.in));
  p.w = testing::uniform_values(rng, static_cast<size_t>(p.classes * p.in));
  p.b = testing::uniform_values(rng, static_cast<size_t>(p.classes));
  return p;
}

std::vector<double> dense(const DenseProblem& p) {
  std::vector<double> logits(static_cast<size_t>(p.rows * p.classes));
  cpu::dense_forward(p.rows, p.in, p.classes, p.h.data(), p.w.data(), p.b.data(), logits.data());
  return logits;
}

TEST(CpuDense, ForwardEqualsDefinition) {
  const DenseProblem p = draw_dense(1, 600);  // several row chunks
  const std::vector<double> logits = dense(p);
  std::vector<double> expected(logits.size());
  for (int64_t r = 0; r < p.rows; ++r) {
    for (int c = 0; c < p.classes; ++c) {
      double sum = p.b[static_cast<size_t>(c)];
      for (int j = 0; j < p.in; ++j)
        sum += p.w[static_cast<size_t>(c * p.in + j)] * p.h[static_cast<size_t>(r * p.in + j)];
      expected[static_cast<size_t>(r * p.classes + c)] = sum;
    }
  }
  EXPECT_LE(testing::normwise_relative_error(logits, expected), 1e-15);
}

TEST(CpuDense, GradientsMatchCentralDifferencesAndAccumulate) {
  DenseProblem p = draw_dense(2);
  std::mt19937_64 rng(3);
  std::vector<double> dlogits = testing::uniform_values(rng, static_cast<size_t>(p.rows * p.classes));
  for (size_t e = 0; e < 8; ++e) dlogits[e] = 0.0;  // two masked rows
  auto loss = [&] {
    const std::vector<double> logits = dense(p);
    double total = 0.0;
    for (size_t e = 0; e < logits.size(); ++e) total += dlogits[e] * logits[e];
    return total;
  };
  // dW and db accumulate onto what is there; dh is overwritten (NaN before).
  const std::vector<double> dw_before = testing::uniform_values(rng, p.w.size());
  const std::vector<double> db_before = testing::uniform_values(rng, p.b.size());
  std::vector<double> dh(p.h.size(), std::numeric_limits<double>::quiet_NaN()), dw = dw_before, db = db_before;
  cpu::dense_backward(p.rows, p.in, p.classes, p.h.data(), p.w.data(), dlogits.data(), dh.data(), dw.data(),
                      db.data());
  for (size_t e = 0; e < dw.size(); ++e) dw[e] -= dw_before[e];
  for (size_t e = 0; e < db.size(); ++e) db[e] -= db_before[e];
  const double h_error = testing::gradient_error(p.h, dh, loss);
  const double w_error = testing::gradient_error(p.w, dw, loss);
  const double b_error = testing::gradient_error(p.b, db, loss);
  std::printf("dense gradient check: input %.2e weight %.2e bias %.2e\n", h_error, w_error, b_error);
  EXPECT_LE(h_error, testing::kGradientTolerance);
  EXPECT_LE(w_error, testing::kGradientTolerance);
  EXPECT_LE(b_error, testing::kGradientTolerance);
  for (size_t e = 0; e < 2 * static_cast<size_t>(p.in); ++e) EXPECT_EQ(dh[e], 0.0);  // masked rows
}

TEST(CpuDense, FloatMatchesDouble) {
  const DenseProblem p = draw_dense(4, 3000);
  std::mt19937_64 rng(5);
  const std::vector<double> dlogits = testing::uniform_values(rng, static_cast<size_t>(p.rows * p.classes));
  std::vector<double> dh(p.h.size()), dw(p.w.size(), 0.0), db(p.b.size(), 0.0);
  cpu::dense_backward(p.rows, p.in, p.classes, p.h.data(), p.w.data(), dlogits.data(), dh.data(), dw.data(),
                      db.data());
  auto to_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  const std::vector<float> h = to_float(p.h), w = to_float(p.w), b = to_float(p.b), dl = to_float(dlogits);
  std::vector<float> logits_f(static_cast<size_t>(p.rows * p.classes)), dh_f(h.size()), dw_f(w.size(), 0.f),
      db_f(b.size(), 0.f);
  cpu::dense_forward(p.rows, p.in, p.classes, h.data(), w.data(), b.data(), logits_f.data());
  cpu::dense_backward(p.rows, p.in, p.classes, h.data(), w.data(), dl.data(), dh_f.data(), dw_f.data(),
                      db_f.data());
  EXPECT_LE(testing::normwise_relative_error(logits_f, dense(p)), 1e-6);
  EXPECT_LE(testing::normwise_relative_error(dh_f, dh), 1e-6);
  EXPECT_LE(testing::normwise_relative_error(dw_f, dw), 1e-6);
  EXPECT_LE(testing::normwise_relative_error(db_f, db), 1e-6);
}

}  // namespace
}  // namespace seqcnn
