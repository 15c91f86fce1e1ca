// Conv1D on packed rows: forward equals the definition applied to each
// sequence alone, gradients equal central differences (odd and even kernels,
// dilation, dropout), and gap/halo rows behave as the layout promises.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/conv1d.hpp"
#include "cpu_op_fixtures.hpp"
#include "grad_check.hpp"

namespace seqcnn {
namespace {

using testing::RowLayout;

struct KernelCase {
  int kernel, dilation;
};
// Odd and even kernels, with and without dilation (even ones put the odd
// extra zero on the right).
const std::vector<KernelCase> kKernelCases = {{1, 1}, {2, 1}, {3, 1}, {4, 1}, {2, 3}, {3, 2}, {5, 2}};

Conv1dShape shape_for(const RowLayout& layout, int in, int out, KernelCase kc) {
  Conv1dShape s;
  s.rows = layout.rows;
  s.halo = layout.halo;
  s.in_channels = in;
  s.out_channels = out;
  s.kernel = kc.kernel;
  s.dilation = kc.dilation;
  return s;
}

int halo_for(KernelCase kc) { return math::conv_reach_right(kc.kernel, kc.dilation); }

struct ConvProblem {
  RowLayout layout;
  int in = 3, out = 4;
  KernelCase kc{};
  std::vector<std::vector<double>> seq_x;
  std::vector<double> x, w, b;
};

// Random sequences packed with gaps; redrawn until every pre-activation
// (by the definition) is at least kKinkMargin away from 0.
ConvProblem draw_problem(KernelCase kc, uint64_t seed, const std::vector<int64_t>& lengths, int in = 3) {
  std::mt19937_64 rng(seed);
  ConvProblem p;
  p.kc = kc;
  p.in = in;
  p.layout = testing::make_layout(lengths, std::max(1, halo_for(kc)), 0, 2);
  for (int attempt = 0; attempt < 100; ++attempt) {
    p.seq_x.clear();
    for (int64_t n : lengths) p.seq_x.push_back(testing::uniform_values(rng, static_cast<size_t>(n * p.in)));
    p.w = testing::uniform_values(rng, static_cast<size_t>(kc.kernel * p.in * p.out));
    p.b = testing::uniform_values(rng, static_cast<size_t>(p.out), -0.3, 0.3);
    bool ok = true;
    for (size_t s = 0; s < lengths.size(); ++s) {
      ok = ok && testing::away_from_kinks(testing::conv_by_definition(p.seq_x[s], lengths[s], p.in, p.out, kc.kernel,
                                                                      kc.dilation, p.w, p.b));
    }
    if (ok) break;
  }
  p.x = testing::scatter_rows(p.layout, p.in, p.seq_x);
  return p;
}

std::vector<double> forward(const ConvProblem& p, const DropoutSpec& dropout = {}) {
  std::vector<double> y(static_cast<size_t>(p.layout.rows * p.out), 0.0);
  cpu::conv1d_forward(shape_for(p.layout, p.in, p.out, p.kc), p.x.data(), p.w.data(), p.b.data(),
                      p.layout.row_is_real.data(), dropout, y.data());
  return y;
}

// Few input channels take the gathered-taps (im2col) path, many the shifted
// GEMMs: both must give the definition.
TEST(CpuConv1d, ForwardEqualsDefinitionForEachSequenceAloneWhenPacked) {
  for (const int in : {3, 70}) {
    for (const KernelCase kc : kKernelCases) {
      const ConvProblem p =
          draw_problem(kc, 11 + static_cast<uint64_t>(kc.kernel * 10 + kc.dilation), {1, 2, 5, 9}, in);
      const std::vector<double> y = forward(p);
      for (size_t s = 0; s < p.layout.lengths.size(); ++s) {
        const std::vector<double> expected = testing::relu(testing::conv_by_definition(
            p.seq_x[s], p.layout.lengths[s], p.in, p.out, kc.kernel, kc.dilation, p.w, p.b));
        EXPECT_LE(testing::normwise_relative_error(testing::gather_rows(p.layout, p.out, y, s), expected), 1e-14)
            << "in " << in << " kernel " << kc.kernel << " dilation " << kc.dilation << " sequence " << s;
      }
      for (int64_t r = 0; r < p.layout.rows; ++r) {
        if (p.layout.row_is_real[static_cast<size_t>(r)]) continue;
        for (int o = 0; o < p.out; ++o) EXPECT_EQ(y[static_cast<size_t>(r * p.out + o)], 0.0) << "gap row " << r;
      }
    }
  }
}

TEST(CpuConv1d, HaloRowsOfOutputAreNeverWritten) {
  const KernelCase kc{3, 2};
  const ConvProblem p = draw_problem(kc, 5, {4, 3});
  const double sentinel = 7.25;
  std::vector<double> y(static_cast<size_t>(p.layout.rows * p.out), sentinel);
  std::vector<double> dx(static_cast<size_t>(p.layout.rows * p.in), sentinel);
  const Conv1dShape s = shape_for(p.layout, p.in, p.out, kc);
  cpu::conv1d_forward(s, p.x.data(), p.w.data(), p.b.data(), p.layout.row_is_real.data(), DropoutSpec{}, y.data());
  std::vector<double> dpre(y.size(), 1.0);
  cpu::conv1d_backward_data(s, p.w.data(), dpre.data(), dx.data());
  for (int64_t r = 0; r < p.layout.rows; ++r) {
    if (r >= s.first_row() && r < s.end_row()) continue;
    for (int o = 0; o < p.out; ++o) EXPECT_EQ(y[static_cast<size_t>(r * p.out + o)], sentinel) << "row " << r;
    for (int i = 0; i < p.in; ++i) EXPECT_EQ(dx[static_cast<size_t>(r * p.in + i)], sentinel) << "row " << r;
  }
}

// Loss = sum over all rows of R[r][o] * y[r][o]; its gradient through the
// epilogue, the weights, the bias and the input against central differences.
void expect_gradients_match(KernelCase kc, const DropoutSpec& dropout, uint64_t seed) {
  ConvProblem p = draw_problem(kc, seed, {3, 1, 6});
  std::mt19937_64 rng(seed + 1);
  const std::vector<double> upstream = testing::uniform_values(rng, static_cast<size_t>(p.layout.rows * p.out));
  const Conv1dShape s = shape_for(p.layout, p.in, p.out, kc);
  auto loss = [&] {
    const std::vector<double> y = forward(p, dropout);
    double total = 0.0;
    for (size_t e = 0; e < y.size(); ++e) total += upstream[e] * y[e];
    return total;
  };

  const std::vector<double> y = forward(p, dropout);
  std::vector<double> dpre(y.size()), dx(p.x.size(), 0.0), dw(p.w.size(), 0.0), db(p.b.size(), 0.0);
  cpu::conv1d_epilogue_backward(p.layout.rows, p.out, y.data(), upstream.data(), p.layout.row_is_real.data(),
                                static_cast<double>(dropout.keep_scale()), dpre.data());
  cpu::conv1d_backward_weight(s, p.x.data(), dpre.data(), dw.data(), db.data());
  cpu::conv1d_backward_data(s, p.w.data(), dpre.data(), dx.data());

  const std::string where = "kernel " + std::to_string(kc.kernel) + " dilation " + std::to_string(kc.dilation);
  const double w_error = testing::gradient_error(p.w, dw, loss);
  const double b_error = testing::gradient_error(p.b, db, loss);
  // Only real rows of x are inputs (gap rows are zero by the layout); dx at
  // gap rows is discarded by contract.
  std::vector<double> real_x, real_dx;
  std::vector<size_t> real_index;
  for (int64_t r = 0; r < p.layout.rows; ++r) {
    if (!p.layout.row_is_real[static_cast<size_t>(r)]) continue;
    for (int i = 0; i < p.in; ++i) {
      const size_t e = static_cast<size_t>(r * p.in + i);
      real_index.push_back(e);
      real_x.push_back(p.x[e]);
      real_dx.push_back(dx[e]);
    }
  }
  auto loss_of_real_x = [&] {
    for (size_t j = 0; j < real_index.size(); ++j) p.x[real_index[j]] = real_x[j];
    return loss();
  };
  const double x_error = testing::gradient_error(real_x, real_dx, loss_of_real_x);
  EXPECT_LE(w_error, testing::kGradientTolerance) << where;
  EXPECT_LE(b_error, testing::kGradientTolerance) << where;
  EXPECT_LE(x_error, testing::kGradientTolerance) << where;
  std::printf("conv1d gradient check (%s, drop %.1f): weight %.2e bias %.2e input %.2e\n", where.c_str(),
              static_cast<double>(dropout.drop_probability), w_error, b_error, x_error);
}

TEST(CpuConv1d, GradientsMatchCentralDifferencesForOddEvenAndDilatedKernels) {
  for (const KernelCase kc : kKernelCases) expect_gradients_match(kc, DropoutSpec{}, 100 + static_cast<uint64_t>(kc.kernel));
}

TEST(CpuConv1d, GradientsMatchCentralDifferencesWithDropout) {
  DropoutSpec dropout;
  dropout.drop_probability = 0.3f;
  dropout.seed = 42;
  dropout.step = 7;
  dropout.layer = 1;
  expect_gradients_match({3, 1}, dropout, 300);
  expect_gradients_match({4, 2}, dropout, 301);
}

TEST(CpuConv1d, DropoutKeepsExactlyTheSharedMaskAndScalesKeptValues) {
  const KernelCase kc{3, 1};
  const ConvProblem p = draw_problem(kc, 9, {40, 25});
  DropoutSpec dropout;
  dropout.drop_probability = 0.5f;
  dropout.seed = 0x1234'5678'9abcULL;
  dropout.step = 3;
  dropout.layer = 2;
  const std::vector<double> plain = forward(p), dropped = forward(p, dropout);
  int64_t kept = 0, total = 0;
  for (int64_t r = 0; r < p.layout.rows; ++r) {
    if (!p.layout.row_is_real[static_cast<size_t>(r)]) continue;
    for (int o = 0; o < p.out; ++o) {
      const size_t e = static_cast<size_t>(r * p.out + o);
      const bool keep = math::dropout_keep(dropout.seed, dropout.step, dropout.layer, static_cast<uint32_t>(r),
                                           static_cast<uint32_t>(o), dropout.drop_probability);
      EXPECT_EQ(dropped[e], keep ? plain[e] * 2.0 : 0.0) << "row " << r << " channel " << o;
      kept += keep;
      ++total;
    }
  }
  EXPECT_GT(kept, total / 4);
  EXPECT_LT(kept, 3 * total / 4);
}

TEST(CpuConv1d, GapRowsAreSelectedToZeroEvenWhenThePreActivationIsInfinite) {
  const KernelCase kc{3, 1};
  ConvProblem p = draw_problem(kc, 21, {3, 2});
  p.b[0] = std::numeric_limits<double>::infinity();  // a multiply by a 0/1 mask would give NaN here
  const std::vector<double> y = forward(p);
  for (int64_t r = 0; r < p.layout.rows; ++r) {
    const double v = y[static_cast<size_t>(r * p.out)];
    if (p.layout.row_is_real[static_cast<size_t>(r)]) {
      EXPECT_EQ(v, std::numeric_limits<double>::infinity()) << "row " << r;
    } else {
      EXPECT_EQ(v, 0.0) << "row " << r;
    }
  }
}

TEST(CpuConv1d, EpilogueBackwardSelectsAwayGapRowsAndDeadUnits) {
  const std::vector<uint8_t> real = {0, 1, 1, 0};
  const std::vector<double> y = {0.0, 2.0, 0.0, 5.0};  // one channel
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> dy = {nan, 3.0, 4.0, nan};
  std::vector<double> dpre(4, -1.0);
  cpu::conv1d_epilogue_backward(4, 1, y.data(), dy.data(), real.data(), 1.5, dpre.data());
  EXPECT_EQ(dpre, (std::vector<double>{0.0, 4.5, 0.0, 0.0}));
}

}  // namespace
}  // namespace seqcnn
