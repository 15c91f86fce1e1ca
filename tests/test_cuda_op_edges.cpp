// Edge cases of the embedding and Conv1D kernels that the shape sweep in
// test_cuda_parity.cpp does not reach: vocabularies of thousands of tokens
// with long runs of one token (the sorted-segment gradient), all-masked
// batches, batches with no row to compute, long batches whose weight
// gradient is split into many row chunks, and every gradient repeated
// bitwise. Every test skips, with the reason, when no GPU is usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cuda_test_support.hpp"

#if defined(SEQCNN_HAVE_CUDA)
#include "../cuda/conv1d.hpp"
#include "../cuda/embedding.hpp"
#include "common/conv_shape.hpp"
#include "common/op_math.hpp"
#include "cpu/conv1d.hpp"
#include "cpu/embedding.hpp"
#include "grad_check.hpp"

namespace seqcnn::testing {
namespace {

constexpr double kParity = 1e-6;

// Ids log-uniform in [1, vocab): id 1 takes ~ln 2 / ln V of the rows, so a
// token's segment runs to hundreds of rows. Every 20th row holds the pad
// id 0, which must not learn even on a real row.
std::vector<int32_t> skewed_tokens(std::mt19937_64& rng, int64_t rows, int vocab) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<int32_t> tokens(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const double id = std::exp(unit(rng) * std::log(static_cast<double>(vocab)));
    tokens[static_cast<size_t>(r)] = r % 20 == 7 ? 0 : std::clamp(static_cast<int32_t>(id), 1, vocab - 1);
  }
  return tokens;
}

int64_t longest_segment(const std::vector<int32_t>& tokens, const RowLayout& layout) {
  std::map<int32_t, int64_t> count;
  for (size_t r = 0; r < tokens.size(); ++r)
    if (layout.row_is_real[r] != 0 && tokens[r] != 0) ++count[tokens[r]];
  int64_t longest = 0;
  for (const auto& [token, n] : count) longest = std::max(longest, n);
  return longest;
}

// ------------------------------------------------- embedding: sorted segments

struct LargeVocabCase {
  int vocab, dim;
  std::vector<int64_t> lengths;
};

void PrintTo(const LargeVocabCase& c, std::ostream* os) {
  *os << "vocab " << c.vocab << ", dim " << c.dim << ", lengths " << lengths_text(c.lengths);
}

std::string large_vocab_name(const ::testing::TestParamInfo<LargeVocabCase>& info) {
  return "V" + std::to_string(info.param.vocab) + "_E" + std::to_string(info.param.dim);
}

class CudaEmbeddingSortedSegments : public ::testing::TestWithParam<LargeVocabCase> {};

TEST_P(CudaEmbeddingSortedSegments, ForwardIsBitwiseAndBackwardMatchesAndRepeatsBitwise) {
  SEQCNN_REQUIRE_CUDA();
  const LargeVocabCase& c = GetParam();
  ASSERT_FALSE(cuda::embedding_backward_uses_shared_tables(c.dim, c.vocab)) << "the case must take the sort path";
  std::mt19937_64 rng(77 + static_cast<uint64_t>(c.vocab));
  const RowLayout layout = make_layout(c.lengths, 2, 0, 3);
  const auto rows = static_cast<size_t>(layout.rows);
  const std::vector<int32_t> tokens = skewed_tokens(rng, layout.rows, c.vocab);
  ASSERT_GE(longest_segment(tokens, layout), 50) << "the case must have long runs of one token";
  const std::vector<float> table = random_floats(rng, static_cast<size_t>(c.vocab) * c.dim);
  const std::vector<float> dout = random_on_real_rows(rng, layout, c.dim, std::nanf(""));
  const std::vector<float> dtable0 = random_floats(rng, table.size(), -0.1f, 0.1f);

  std::vector<float> out_cpu(rows * c.dim), dtable_cpu = dtable0;
  cpu::embedding_forward(tokens.data(), layout.row_is_real.data(), layout.rows, table.data(), c.dim, 0, out_cpu.data());
  cpu::embedding_backward(tokens.data(), layout.row_is_real.data(), layout.rows, dout.data(), c.dim, c.vocab, 0,
                          dtable_cpu.data());

  cuda::Stream stream;
  auto d_tokens = cuda::to_device(tokens);
  auto d_real = cuda::to_device(layout.row_is_real);
  auto d_table = cuda::to_device(table), d_dout = cuda::to_device(dout);
  auto d_out = cuda::to_device(std::vector<float>(rows * c.dim, kSentinel));
  auto d_first = cuda::to_device(dtable0), d_second = cuda::to_device(dtable0);
  TestWorkspace ws(cuda::embedding_backward_workspace_bytes(layout.rows, c.dim, c.vocab));
  cuda::embedding_forward(d_tokens.data(), d_real.data(), layout.rows, d_table.data(), c.dim, 0, d_out.data(),
                          stream.get());
  for (auto* target : {&d_first, &d_second})
    cuda::embedding_backward(d_tokens.data(), d_real.data(), layout.rows, d_dout.data(), c.dim, c.vocab, 0,
                             target->data(), ws.get(), stream.get());
  const std::vector<float> first = download(d_first, stream), second = download(d_second, stream);

  EXPECT_TRUE(bitwise_equal(download(d_out, stream), out_cpu));
  EXPECT_LE(normwise_relative_error(first, dtable_cpu), kParity);
  EXPECT_TRUE(bitwise_equal(first, second)) << "two runs of the backward pass must agree bitwise";
  EXPECT_TRUE(bitwise_equal(row_range(first, c.dim, 0, 1), row_range(dtable0, c.dim, 0, 1)))
      << "the pad row must get no gradient";
}

INSTANTIATE_TEST_SUITE_P(LargeVocabularies, CudaEmbeddingSortedSegments,
                         ::testing::Values(LargeVocabCase{5000, 24, {1500, 0, 1, 2000}},
                                           LargeVocabCase{3000, 4, {700, 1, 0, 900}},
                                           LargeVocabCase{20000, 64, {2000, 1, 0, 1200}}),
                         large_vocab_name);

// ------------------------------------------------------- embedding: edges

TEST(CudaEmbeddingEdges, SharedTablePathRepeatsBitwise) {
  SEQCNN_REQUIRE_CUDA();
  const int vocab = 25, dim = 64;
  ASSERT_TRUE(cuda::embedding_backward_uses_shared_tables(dim, vocab));
  std::mt19937_64 rng(8);
  const RowLayout layout = make_layout({900, 1, 700}, 2, 0, 3);
  const std::vector<int32_t> tokens = skewed_tokens(rng, layout.rows, vocab);
  const std::vector<float> dout = random_on_real_rows(rng, layout, dim, std::nanf(""));
  std::vector<float> dtable_cpu(static_cast<size_t>(vocab) * dim, 0.0f);
  cpu::embedding_backward(tokens.data(), layout.row_is_real.data(), layout.rows, dout.data(), dim, vocab, 0,
                          dtable_cpu.data());
  cuda::Stream stream;
  auto d_tokens = cuda::to_device(tokens);
  auto d_dout = cuda::to_device(dout);
  auto d_real = cuda::to_device(layout.row_is_real);
  auto d_first = cuda::to_device(std::vector<float>(dtable_cpu.size(), 0.0f));
  auto d_second = cuda::to_device(std::vector<float>(dtable_cpu.size(), 0.0f));
  TestWorkspace ws(cuda::embedding_backward_workspace_bytes(layout.rows, dim, vocab));
  for (auto* target : {&d_first, &d_second})
    cuda::embedding_backward(d_tokens.data(), d_real.data(), layout.rows, d_dout.data(), dim, vocab, 0, target->data(),
                             ws.get(), stream.get());
  const std::vector<float> first = download(d_first, stream);
  EXPECT_LE(normwise_relative_error(first, dtable_cpu), kParity);
  EXPECT_TRUE(bitwise_equal(first, download(d_second, stream)));
}

TEST(CudaEmbeddingEdges, AllMaskedBatchGivesZerosAndLeavesTheTableUntouched) {
  SEQCNN_REQUIRE_CUDA();
  for (const auto& [vocab, dim] : {std::pair{25, 16}, std::pair{5000, 24}}) {
    std::mt19937_64 rng(static_cast<uint64_t>(vocab));
    const RowLayout layout = make_layout({0, 0, 0}, 2, 0, 40);  // rows, but none real
    const std::vector<int32_t> tokens = skewed_tokens(rng, layout.rows, vocab);
    const std::vector<float> table = random_floats(rng, static_cast<size_t>(vocab) * dim);
    const std::vector<float> dout = random_floats(rng, static_cast<size_t>(layout.rows) * dim);  // garbage
    cuda::Stream stream;
    auto d_tokens = cuda::to_device(tokens);
    auto d_real = cuda::to_device(layout.row_is_real);
    auto d_table = cuda::to_device(table), d_dout = cuda::to_device(dout);
    auto d_out = cuda::to_device(std::vector<float>(dout.size(), kSentinel));
    auto d_dtable = cuda::to_device(table);
    TestWorkspace ws(cuda::embedding_backward_workspace_bytes(layout.rows, dim, vocab));
    cuda::embedding_forward(d_tokens.data(), d_real.data(), layout.rows, d_table.data(), dim, 0, d_out.data(),
                            stream.get());
    cuda::embedding_backward(d_tokens.data(), d_real.data(), layout.rows, d_dout.data(), dim, vocab, 0,
                             d_dtable.data(), ws.get(), stream.get());
    EXPECT_TRUE(rows_hold(download(d_out, stream), dim, 0, layout.rows, 0.0f)) << "vocab " << vocab;
    EXPECT_TRUE(bitwise_equal(download(d_dtable, stream), table)) << "vocab " << vocab;
    // No rows at all: nothing is launched, nothing is needed.
    EXPECT_EQ(cuda::embedding_backward_workspace_bytes(0, dim, vocab), 0u);
    cuda::embedding_forward(d_tokens.data(), d_real.data(), 0, d_table.data(), dim, 0, d_out.data(), stream.get());
    cuda::embedding_backward(d_tokens.data(), d_real.data(), 0, d_dout.data(), dim, vocab, 0, d_dtable.data(),
                             cuda::Workspace{}, stream.get());
    EXPECT_TRUE(bitwise_equal(download(d_dtable, stream), table));
  }
}

// ----------------------------------------------------------- conv1d: edges

Conv1dShape shape_for(const RowLayout& layout, int in, int out, int kernel, int dilation) {
  return Conv1dShape{layout.rows, layout.halo, in, out, kernel, dilation};
}

int halo_for(int kernel, int dilation) {
  return std::max(math::conv_pad_left(kernel, dilation), math::conv_reach_right(kernel, dilation));
}

TEST(CudaConv1dEdges, AllMaskedBatchGivesExactZerosWhateverTheInputs) {
  SEQCNN_REQUIRE_CUDA();
  const int in = 7, out = 9, kernel = 4, dilation = 2;
  const RowLayout layout = make_layout({0, 0, 0}, halo_for(kernel, dilation), 0, 3);
  const Conv1dShape shape = shape_for(layout, in, out, kernel, dilation);
  const DropoutSpec dropout{0.3f, 5, 2, 1};
  std::mt19937_64 rng(12);
  const auto rows = static_cast<size_t>(layout.rows);
  // Garbage everywhere: the epilogue and its backward select by row, so
  // nothing of it may reach y, dx, dW or db.
  const std::vector<float> x = random_floats(rng, rows * in), w = random_floats(rng, size_t{kernel} * in * out);
  const std::vector<float> b = random_floats(rng, out), dy(rows * out, std::nanf(""));
  cuda::Stream stream;
  auto d_x = cuda::to_device(x), d_w = cuda::to_device(w), d_b = cuda::to_device(b), d_dy = cuda::to_device(dy);
  auto d_real = cuda::to_device(layout.row_is_real);
  auto d_y = cuda::to_device(std::vector<float>(rows * out, kSentinel));
  auto d_dpre = cuda::to_device(std::vector<float>(rows * out, kSentinel));
  auto d_dx = cuda::to_device(std::vector<float>(rows * in, kSentinel));
  auto d_dw = cuda::to_device(std::vector<float>(w.size(), 0.0f)), d_db = cuda::to_device(std::vector<float>(b.size(), 0.0f));
  TestWorkspace ws(cuda::conv1d_backward_weight_workspace_bytes(shape));
  cuda::conv1d_forward(shape, d_x.data(), d_w.data(), d_b.data(), d_real.data(), dropout, d_y.data(), stream.get());
  cuda::conv1d_epilogue_backward(layout.rows, out, d_y.data(), d_dy.data(), d_real.data(), dropout.keep_scale(),
                                 d_dpre.data(), stream.get());
  cuda::conv1d_backward_data(shape, d_w.data(), d_dpre.data(), d_dx.data(), stream.get());
  cuda::conv1d_backward_weight(shape, d_x.data(), d_dpre.data(), d_dw.data(), d_db.data(), ws.get(), stream.get());
  EXPECT_TRUE(rows_hold(download(d_y, stream), out, shape.first_row(), shape.end_row(), 0.0f));
  EXPECT_TRUE(rows_hold(download(d_dpre, stream), out, 0, layout.rows, 0.0f));
  EXPECT_TRUE(rows_hold(download(d_dx, stream), in, shape.first_row(), shape.end_row(), 0.0f));
  EXPECT_TRUE(rows_hold(download(d_dw, stream), out, 0, int64_t{kernel} * in, 0.0f));
  EXPECT_TRUE(rows_hold(download(d_db, stream), out, 0, 1, 0.0f));
}

TEST(CudaConv1dEdges, BatchWithNoRowToComputeLaunchesNothing) {
  SEQCNN_REQUIRE_CUDA();
  const int in = 5, out = 6, kernel = 3, dilation = 1, halo = halo_for(kernel, dilation);
  for (int64_t rows : {int64_t{0}, int64_t{2 * halo}}) {
    const Conv1dShape shape{rows, halo, in, out, kernel, dilation};
    EXPECT_EQ(cuda::conv1d_backward_weight_workspace_bytes(shape), 0u);
    const size_t n = static_cast<size_t>(std::max<int64_t>(rows, 1));
    auto d_x = cuda::to_device(std::vector<float>(n * in, 1.0f)), d_w = cuda::to_device(std::vector<float>(kernel * in * out, 1.0f));
    auto d_b = cuda::to_device(std::vector<float>(out, 1.0f));
    auto d_y = cuda::to_device(std::vector<float>(n * out, kSentinel)), d_dx = cuda::to_device(std::vector<float>(n * in, kSentinel));
    auto d_dw = cuda::to_device(std::vector<float>(kernel * in * out, kSentinel)), d_db = cuda::to_device(std::vector<float>(out, kSentinel));
    cuda::Stream stream;
    cuda::conv1d_forward(shape, d_x.data(), d_w.data(), d_b.data(), nullptr, DropoutSpec{}, d_y.data(), stream.get());
    cuda::conv1d_backward_data(shape, d_w.data(), d_y.data(), d_dx.data(), stream.get());
    cuda::conv1d_backward_weight(shape, d_x.data(), d_y.data(), d_dw.data(), d_db.data(), cuda::Workspace{}, stream.get());
    EXPECT_TRUE(rows_hold(download(d_y, stream), out, 0, static_cast<int64_t>(n), kSentinel)) << rows << " rows";
    EXPECT_TRUE(rows_hold(download(d_dx, stream), in, 0, static_cast<int64_t>(n), kSentinel)) << rows << " rows";
    EXPECT_TRUE(rows_hold(download(d_dw, stream), out, 0, int64_t{kernel} * in, kSentinel)) << rows << " rows";
    EXPECT_TRUE(rows_hold(download(d_db, stream), out, 0, 1, kSentinel)) << rows << " rows";
  }
}

// A 5000-row batch: the weight gradient is split into tens of row chunks
// summed in a fixed order. Compared with the double-precision reference at
// 1e-5, because sums of thousands of float terms carry ~1e-6 of rounding
// whatever their order; the determinism check is bitwise.
TEST(CudaConv1dEdges, LongBatchWeightGradientMatchesAndRepeatsBitwise) {
  SEQCNN_REQUIRE_CUDA();
  const int in = 17, out = 33, kernel = 3, dilation = 1;
  const RowLayout layout = make_layout({2000, 1, 0, 2900}, halo_for(kernel, dilation), 0, 3);
  const Conv1dShape shape = shape_for(layout, in, out, kernel, dilation);
  std::mt19937_64 rng(99);
  const std::vector<float> x = random_on_real_rows(rng, layout, in), dpre = random_on_real_rows(rng, layout, out);
  const std::vector<double> x64(x.begin(), x.end()), dpre64(dpre.begin(), dpre.end());
  std::vector<double> dw64(size_t{kernel} * in * out, 0.0), db64(out, 0.0);
  cpu::conv1d_backward_weight(shape, x64.data(), dpre64.data(), dw64.data(), db64.data());

  cuda::Stream stream;
  auto d_x = cuda::to_device(x), d_dpre = cuda::to_device(dpre);
  TestWorkspace ws(cuda::conv1d_backward_weight_workspace_bytes(shape));
  std::vector<std::vector<float>> dw(2), db(2);
  for (int run = 0; run < 2; ++run) {
    auto d_dw = cuda::to_device(std::vector<float>(dw64.size(), 0.0f)), d_db = cuda::to_device(std::vector<float>(db64.size(), 0.0f));
    cuda::conv1d_backward_weight(shape, d_x.data(), d_dpre.data(), d_dw.data(), d_db.data(), ws.get(), stream.get());
    dw[run] = download(d_dw, stream);
    db[run] = download(d_db, stream);
  }
  EXPECT_LE(normwise_relative_error(dw[0], dw64), 1e-5);
  EXPECT_LE(normwise_relative_error(db[0], db64), 1e-5);
  EXPECT_TRUE(bitwise_equal(dw[0], dw[1]));
  EXPECT_TRUE(bitwise_equal(db[0], db[1]));
}

}  // namespace
}  // namespace seqcnn::testing

#else  // built without CUDA

TEST(CudaOpEdges, SkipsWithoutCuda) { SEQCNN_REQUIRE_CUDA(); }

#endif
