// The CPU GEMM (CBLAS or the built-in blocked loops) against the textbook
// triple loop, for every transpose, odd sizes, padded strides and beta.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/gemm.hpp"
#include "grad_check.hpp"

namespace seqcnn {
namespace {

using cpu::Transpose;

struct GemmCase {
  Transpose ta, tb;
  int64_t m, n, k;
  double alpha, beta;
};

// C = alpha op(A) op(B) + beta C in double, one output at a time.
std::vector<double> textbook_gemm(const GemmCase& g, const std::vector<double>& a, int64_t lda,
                                  const std::vector<double>& b, int64_t ldb, std::vector<double> c, int64_t ldc) {
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      double sum = 0.0;
      for (int64_t p = 0; p < g.k; ++p) {
        const double av = g.ta == Transpose::Yes ? a[p * lda + i] : a[i * lda + p];
        const double bv = g.tb == Transpose::Yes ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
      }
      double& out = c[i * ldc + j];
      out = g.alpha * sum + (g.beta == 0.0 ? 0.0 : g.beta * out);
    }
  }
  return c;
}

template <class T, class Gemm>
double gemm_error(const GemmCase& g, Gemm&& gemm_under_test, bool nan_in_c) {
  std::mt19937_64 rng(static_cast<uint64_t>(g.m * 1000003 + g.n * 1009 + g.k));
  const int64_t a_rows = g.ta == Transpose::Yes ? g.k : g.m, a_cols = g.ta == Transpose::Yes ? g.m : g.k;
  const int64_t b_rows = g.tb == Transpose::Yes ? g.n : g.k, b_cols = g.tb == Transpose::Yes ? g.k : g.n;
  const int64_t lda = a_cols + 3, ldb = b_cols + 1, ldc = g.n + 2;  // strides wider than the rows
  std::vector<double> a = testing::uniform_values(rng, static_cast<size_t>(a_rows * lda));
  std::vector<double> b = testing::uniform_values(rng, static_cast<size_t>(b_rows * ldb));
  std::vector<double> c = testing::uniform_values(rng, static_cast<size_t>(g.m * ldc));
  if (nan_in_c) {
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) c[static_cast<size_t>(i * ldc + j)] = std::numeric_limits<double>::quiet_NaN();
  }
  const std::vector<double> expected = textbook_gemm(g, a, lda, b, ldb, c, ldc);
  std::vector<T> ta(a.begin(), a.end()), tb(b.begin(), b.end()), tc(c.begin(), c.end());
  gemm_under_test(g.ta, g.tb, g.m, g.n, g.k, static_cast<T>(g.alpha), ta.data(), lda, tb.data(), ldb,
                  static_cast<T>(g.beta), tc.data(), ldc);
  return testing::normwise_relative_error(tc, expected);
}

std::vector<GemmCase> gemm_cases() {
  std::vector<GemmCase> cases;
  for (Transpose ta : {Transpose::No, Transpose::Yes}) {
    for (Transpose tb : {Transpose::No, Transpose::Yes}) {
      cases.push_back({ta, tb, 1, 1, 1, 1.0, 0.0});
      cases.push_back({ta, tb, 7, 5, 3, 0.5, 1.0});
      cases.push_back({ta, tb, 3, 130, 9, 1.0, 2.0});
      cases.push_back({ta, tb, 300, 70, 260, 1.0, 0.0});  // crosses every block edge of the built-in loops
      cases.push_back({ta, tb, 65, 257, 513, -1.0, 1.0});
    }
  }
  return cases;
}

template <class T>
void expect_gemm_matches_textbook(bool blocked, double tolerance) {
  for (const GemmCase& g : gemm_cases()) {
    const double error = gemm_error<T>(
        g,
        [&](auto... args) {
          if (blocked) {
            cpu::gemm_blocked<T>(args...);
          } else {
            cpu::gemm<T>(args...);
          }
        },
        false);
    EXPECT_LE(error, tolerance) << "m=" << g.m << " n=" << g.n << " k=" << g.k
                                << " ta=" << (g.ta == Transpose::Yes) << " tb=" << (g.tb == Transpose::Yes);
  }
}

TEST(CpuGemm, MatchesTextbookLoopsForEveryTransposeInDouble) {
  expect_gemm_matches_textbook<double>(false, 1e-14);
  expect_gemm_matches_textbook<double>(true, 1e-14);
}

TEST(CpuGemm, MatchesTextbookLoopsForEveryTransposeInFloat) {
  expect_gemm_matches_textbook<float>(false, 1e-6);
  expect_gemm_matches_textbook<float>(true, 1e-6);
}

TEST(CpuGemm, BetaZeroOverwritesNanInOutput) {
  const GemmCase g{Transpose::No, Transpose::Yes, 33, 17, 20, 1.0, 0.0};
  EXPECT_LE(gemm_error<double>(g, [](auto... args) { cpu::gemm<double>(args...); }, true), 1e-14);
  EXPECT_LE(gemm_error<double>(g, [](auto... args) { cpu::gemm_blocked<double>(args...); }, true), 1e-14);
}

TEST(CpuGemm, EmptyInnerDimensionScalesOutputByBeta) {
  std::vector<float> c = {1.0f, 2.0f, 3.0f, 4.0f};
  cpu::gemm<float>(Transpose::No, Transpose::No, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.5f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
}

}  // namespace
}  // namespace seqcnn
