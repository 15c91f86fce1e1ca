// Conv1D cases with hand-checkable numbers: padding must not leak into real
// positions (BR-04), which side 'same' pads for even kernels and dilation
// (BR-05), and a sequence shorter than the kernel (BR-16).
#include <vector>

#include <gtest/gtest.h>

#include "cpu/conv1d.hpp"
#include "cpu/embedding.hpp"
#include "cpu_op_fixtures.hpp"

namespace seqcnn {
namespace {

using testing::RowLayout;

Conv1dShape scalar_conv(const RowLayout& layout, int kernel, int dilation = 1) {
  Conv1dShape s;
  s.rows = layout.rows;
  s.halo = layout.halo;
  s.in_channels = 1;
  s.out_channels = 1;
  s.kernel = kernel;
  s.dilation = dilation;
  return s;
}

std::vector<double> conv(const RowLayout& layout, const std::vector<double>& x, const std::vector<double>& w,
                         double bias, const std::vector<uint8_t>& row_is_real, int dilation = 1) {
  std::vector<double> y(static_cast<size_t>(layout.rows), 0.0);
  const double b[1] = {bias};
  cpu::conv1d_forward(scalar_conv(layout, static_cast<int>(w.size()), dilation), x.data(), w.data(), b,
                      row_is_real.data(), DropoutSpec{}, y.data());
  return y;
}

// BR-04 fixture: emb(pad id 0) = 0.3 (a non-zero pad row), emb(1) = 1, emb(2) = 2.
const std::vector<double> kTable = {0.3, 1.0, 2.0};

std::vector<double> embed(const RowLayout& layout, const std::vector<int32_t>& seq_tokens) {
  const Batch batch = testing::make_test_batch(layout, {seq_tokens}, {{0, 0}}, 0);
  std::vector<double> x(static_cast<size_t>(layout.rows), -1.0);
  cpu::embedding_forward(batch.tokens.data(), batch.row_is_real.data(), batch.rows, kTable.data(), 1, 0, x.data());
  return x;
}

TEST(CpuConv1dCases, BR04_PadEmbeddingDoesNotLeakIntoRealPositions) {
  const RowLayout alone = testing::make_layout({2}, 1);
  const RowLayout bucket4 = testing::make_layout({2}, 1, 4);  // two pad positions after the sequence
  const std::vector<double> w = {0.5, 1.0, -1.0};             // w0 reads x[t-1]
  const std::vector<double> x_alone = embed(alone, {1, 2}), x_bucket = embed(bucket4, {1, 2});
  EXPECT_EQ(x_bucket[3], 0.0);  // pad position: selected to 0, not the pad row's 0.3
  EXPECT_EQ(x_bucket[4], 0.0);

  // The pre-activations are [-0.9, 2.6]; ReLU gives [0, 2.6]. A bias raised
  // by 1 shows the pre-activation itself: [0.1, 3.6].
  const std::vector<double> y_alone = conv(alone, x_alone, w, 0.1, alone.row_is_real);
  const std::vector<double> y_bucket = conv(bucket4, x_bucket, w, 0.1, bucket4.row_is_real);
  EXPECT_EQ(y_alone[1], 0.0);
  EXPECT_NEAR(y_alone[2], 2.6, 1e-15);
  EXPECT_EQ(y_bucket[1], y_alone[1]);
  EXPECT_EQ(y_bucket[2], y_alone[2]);
  const std::vector<double> shifted = conv(bucket4, x_bucket, w, 1.1, bucket4.row_is_real);
  EXPECT_NEAR(shifted[1] - 1.0, -0.9, 1e-15);
  EXPECT_NEAR(shifted[2] - 1.0, 2.6, 1e-15);

  // The fixture is sensitive: with the pad embedding left in, position 1 is 2.3.
  const std::vector<double> leaked_x = {0.0, 1.0, 2.0, 0.3, 0.3, 0.0};
  EXPECT_NEAR(conv(bucket4, leaked_x, w, 0.1, std::vector<uint8_t>(6, 1))[2], 2.3, 1e-15);
}

struct TwoLayerRun {
  std::vector<double> x, h1, out;
  std::vector<double> dw1 = std::vector<double>(3, 0.0), dw2 = std::vector<double>(3, 0.0);
  double db1 = 0.0, db2 = 0.0;
  std::vector<double> dtable = std::vector<double>(3, 0.0);
};

// conv(w = [1,1,1], b = 1) + ReLU, then conv(w = [1,1,1], b = 0) + ReLU, on
// input [1, 2]; backward with upstream 1 on every row, gaps included.
TwoLayerRun two_layers(const RowLayout& layout, const std::vector<uint8_t>& row_is_real) {
  const Batch batch = testing::make_test_batch(layout, {{1, 2}}, {{0, 0}}, 0);
  const std::vector<double> w = {1.0, 1.0, 1.0};
  TwoLayerRun run;
  run.x = embed(layout, {1, 2});
  run.h1 = conv(layout, run.x, w, 1.0, row_is_real);
  run.out = conv(layout, run.h1, w, 0.0, row_is_real);
  const Conv1dShape s = scalar_conv(layout, 3);
  const std::vector<double> ones(static_cast<size_t>(layout.rows), 1.0);
  std::vector<double> dpre(ones.size()), dh1(ones.size(), 0.0), dx(ones.size(), 0.0);
  cpu::conv1d_epilogue_backward(layout.rows, 1, run.out.data(), ones.data(), row_is_real.data(), 1.0, dpre.data());
  cpu::conv1d_backward_weight(s, run.h1.data(), dpre.data(), run.dw2.data(), &run.db2);
  cpu::conv1d_backward_data(s, w.data(), dpre.data(), dh1.data());
  cpu::conv1d_epilogue_backward(layout.rows, 1, run.h1.data(), dh1.data(), row_is_real.data(), 1.0, dpre.data());
  cpu::conv1d_backward_weight(s, run.x.data(), dpre.data(), run.dw1.data(), &run.db1);
  cpu::conv1d_backward_data(s, w.data(), dpre.data(), dx.data());
  cpu::embedding_backward(batch.tokens.data(), batch.row_is_real.data(), batch.rows, dx.data(), 1, 3, 0,
                          run.dtable.data());
  return run;
}

TEST(CpuConv1dCases, BR04_StackedLayersReMaskPadPositionsForwardAndBackward) {
  const RowLayout alone = testing::make_layout({2}, 1);
  const RowLayout bucket4 = testing::make_layout({2}, 1, 4);
  const TwoLayerRun a = two_layers(alone, alone.row_is_real);
  const TwoLayerRun p = two_layers(bucket4, bucket4.row_is_real);
  EXPECT_EQ(a.out, (std::vector<double>{0, 8, 8, 0}));
  EXPECT_EQ(p.h1, (std::vector<double>{0, 4, 4, 0, 0, 0}));  // re-masked: pads are 0 after bias + ReLU
  EXPECT_EQ(p.out, (std::vector<double>{0, 8, 8, 0, 0, 0}));

  // By hand: dpre2 = [1, 1] -> dW2 = [4, 8, 4], db2 = 2; dh1 = dpre1 = [2, 2]
  // -> dW1 = [2, 6, 4], db1 = 4; dx = [4, 4] -> dE = [0 (pad), 4, 4].
  for (const TwoLayerRun* run : {&a, &p}) {
    EXPECT_EQ(run->dw2, (std::vector<double>{4, 8, 4}));
    EXPECT_EQ(run->db2, 2.0);
    EXPECT_EQ(run->dw1, (std::vector<double>{2, 6, 4}));
    EXPECT_EQ(run->db1, 4.0);
    EXPECT_EQ(run->dtable, (std::vector<double>{0, 4, 4}));
  }

  // Without re-masking the bucket's pads (all four positions kept), bias +
  // ReLU turn them into [3, 1] and the output becomes [8, 11, 8, 4].
  std::vector<uint8_t> bucket_all_kept = {0, 1, 1, 1, 1, 0};
  const TwoLayerRun leaked = two_layers(bucket4, bucket_all_kept);
  EXPECT_EQ(leaked.h1, (std::vector<double>{0, 4, 4, 3, 1, 0}));
  EXPECT_EQ(leaked.out, (std::vector<double>{0, 8, 11, 8, 4, 0}));
}

struct SamePaddingCase {
  std::vector<double> w;
  int dilation;
  std::vector<double> expected;
};

TEST(CpuConv1dCases, BR05_SamePaddingPutsTheOddExtraZeroOnTheRight) {
  const std::vector<SamePaddingCase> cases = {
      {{1, 10}, 1, {21, 32, 3}},
      {{1, 10, 100, 1000}, 1, {3210, 321, 32}},
      {{1, 10}, 3, {30, 1, 2}},
      {{1, 10}, 2, {20, 31, 2}},
      {{1, 10, 100}, 2, {310, 20, 31}},
  };
  for (const SamePaddingCase& c : cases) {
    const int kernel = static_cast<int>(c.w.size());
    const int halo = std::max(1, math::conv_reach_right(kernel, c.dilation));
    // x = [1, 2, 3] packed between two other sequences, which must not reach it.
    const RowLayout layout = testing::make_layout({2, 3, 1}, halo);
    const std::vector<double> x = testing::scatter_rows<double>(layout, 1, {{50, 60}, {1, 2, 3}, {70}});
    const std::vector<double> y = conv(layout, x, c.w, 0.0, layout.row_is_real, c.dilation);
    EXPECT_EQ(testing::gather_rows(layout, 1, y, 1), c.expected)
        << "kernel " << kernel << " dilation " << c.dilation << " (left pad "
        << math::conv_pad_left(kernel, c.dilation) << ")";
  }
}

TEST(CpuConv1dCases, BR16_SequenceShorterThanTheKernelSeesOnlyTheCentreTap) {
  const RowLayout layout = testing::make_layout({1}, 1);  // one real row between halo rows
  const std::vector<double> x = {0.0, 5.0, 0.0};
  const std::vector<double> y = conv(layout, x, {1, 2, 3}, 0.5, layout.row_is_real);
  EXPECT_EQ(y, (std::vector<double>{0.0, 10.5, 0.0}));
}

}  // namespace
}  // namespace seqcnn
