// Parity of every CUDA op with its CPU reference (src/cpu/*.hpp holds the
// math): fresh random inputs of awkward shapes (odd channel counts, even and
// odd kernels, dilations, sequences of length 0 and 1 in one packed batch,
// masked rows holding garbage), compared by normwise relative error against
// the float reference (<= 1e-6), bitwise where each element is a single
// fixed operation. Every test skips, with the reason, when no GPU is usable.
// Reductions in these shapes stay within ~500 terms per output: two float
// sums of n terms in different orders differ by about 3e-8 * sqrt(n)
// normwise, so much longer sums would test float32, not the kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "cuda_test_support.hpp"

#if defined(SEQCNN_HAVE_CUDA)
#include "../cuda/adamw.hpp"
#include "../cuda/conv1d.hpp"
#include "../cuda/cudnn_conv1d.hpp"
#include "../cuda/dense.hpp"
#include "../cuda/embedding.hpp"
#include "../cuda/softmax_xent.hpp"
#include "common/conv_shape.hpp"
#include "cpu/adamw.hpp"
#include "cpu/conv1d.hpp"
#include "cpu/dense.hpp"
#include "cpu/embedding.hpp"
#include "cpu/softmax_xent.hpp"
#include "cpu_op_fixtures.hpp"
#include "grad_check.hpp"

namespace seqcnn::testing {
namespace {

constexpr double kParity = 1e-6;

// ---------------------------------------------------------------- embedding

struct EmbeddingCase {
  int vocab, dim;
  std::vector<int64_t> lengths;
  int pad_id = 0;  // BR-11: any id may be the pad; its row neither reads nor learns
};

// Readable parameters in test output instead of gtest's byte dump.
void PrintTo(const EmbeddingCase& c, std::ostream* os) {
  *os << "vocab " << c.vocab << ", dim " << c.dim << ", pad id " << c.pad_id << ", lengths " << lengths_text(c.lengths);
}

std::string embedding_case_name(const ::testing::TestParamInfo<EmbeddingCase>& info) {
  return "V" + std::to_string(info.param.vocab) + "_E" + std::to_string(info.param.dim) +
         (info.param.pad_id != 0 ? "_pad" + std::to_string(info.param.pad_id) : "");
}

class CudaEmbeddingParity : public ::testing::TestWithParam<EmbeddingCase> {};

TEST_P(CudaEmbeddingParity, ForwardIsBitwiseAndBackwardMatchesTheReference) {
  SEQCNN_REQUIRE_CUDA();
  const EmbeddingCase& c = GetParam();
  std::mt19937_64 rng(1000 + static_cast<uint64_t>(c.vocab) * 7 + static_cast<uint64_t>(c.dim));
  const RowLayout layout = make_layout(c.lengths, 2, 0, 3);
  const auto rows = static_cast<size_t>(layout.rows);
  std::vector<int32_t> tokens(rows);
  std::uniform_int_distribution<int32_t> any_token(0, c.vocab - 1);
  for (size_t r = 0; r < rows; ++r) tokens[r] = any_token(rng);  // gap rows hold garbage ids too
  for (size_t r = 0; r < rows; r += 3) tokens[r] = c.pad_id;      // pad ids on real rows as well
  const std::vector<float> table = random_floats(rng, static_cast<size_t>(c.vocab) * c.dim);
  const std::vector<float> dout = random_on_real_rows(rng, layout, c.dim, std::nanf(""));
  const std::vector<float> dtable0 = random_floats(rng, table.size(), -0.1f, 0.1f);

  std::vector<float> out_cpu(rows * c.dim), dtable_cpu = dtable0;
  cpu::embedding_forward(tokens.data(), layout.row_is_real.data(), layout.rows, table.data(), c.dim, c.pad_id,
                         out_cpu.data());
  cpu::embedding_backward(tokens.data(), layout.row_is_real.data(), layout.rows, dout.data(), c.dim, c.vocab,
                          c.pad_id, dtable_cpu.data());

  cuda::Stream stream;
  auto d_tokens = cuda::to_device(tokens);
  auto d_real = cuda::to_device(layout.row_is_real);
  auto d_table = cuda::to_device(table);
  auto d_out = cuda::to_device(std::vector<float>(rows * c.dim, kSentinel));
  auto d_dout = cuda::to_device(dout);
  auto d_dtable = cuda::to_device(dtable0);
  TestWorkspace ws(cuda::embedding_backward_workspace_bytes(layout.rows, c.dim, c.vocab));
  cuda::embedding_forward(d_tokens.data(), d_real.data(), layout.rows, d_table.data(), c.dim, c.pad_id,
                          d_out.data(), stream.get());
  cuda::embedding_backward(d_tokens.data(), d_real.data(), layout.rows, d_dout.data(), c.dim, c.vocab, c.pad_id,
                           d_dtable.data(), ws.get(), stream.get());
  const std::vector<float> out_gpu = download(d_out, stream), dtable_gpu = download(d_dtable, stream);

  EXPECT_TRUE(bitwise_equal(out_gpu, out_cpu)) << "embedding forward is a copy or a selected 0";
  EXPECT_LE(normwise_relative_error(dtable_gpu, dtable_cpu), kParity);
  EXPECT_TRUE(bitwise_equal(row_range(dtable_gpu, c.dim, c.pad_id, c.pad_id + 1),
                            row_range(dtable0, c.dim, c.pad_id, c.pad_id + 1)))
      << "the pad row must get no gradient";
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, CudaEmbeddingParity,
                         ::testing::Values(EmbeddingCase{25, 1, {5, 0, 1, 40}},     // shared-memory tables
                                           EmbeddingCase{25, 17, {300, 1, 0, 77}},  // several row chunks
                                           EmbeddingCase{25, 64, {1, 1, 1}},
                                           EmbeddingCase{25, 500, {30, 0, 9}},      // table too big: sort path
                                           EmbeddingCase{50000, 32, {600, 1, 0, 250}},
                                           EmbeddingCase{50000, 3, {2, 0, 1}},
                                           EmbeddingCase{25, 17, {300, 1, 0, 77}, 3},      // shared tables, pad 3
                                           EmbeddingCase{25, 500, {30, 0, 9}, 24},         // sort path, pad V-1
                                           EmbeddingCase{50000, 32, {600, 1, 0, 250}, 769}),
                         embedding_case_name);

// ------------------------------------------------------------------- conv1d

struct ConvCase {
  int in, out, kernel, dilation;
  std::vector<int64_t> lengths;
  float dropout;
};

void PrintTo(const ConvCase& c, std::ostream* os) {
  *os << "in " << c.in << ", out " << c.out << ", kernel " << c.kernel << ", dilation " << c.dilation
      << ", dropout " << c.dropout << ", lengths " << lengths_text(c.lengths);
}

std::string conv_case_name(const ::testing::TestParamInfo<ConvCase>& info) {
  const ConvCase& c = info.param;
  return "I" + std::to_string(c.in) + "_O" + std::to_string(c.out) + "_K" + std::to_string(c.kernel) + "_d" +
         std::to_string(c.dilation) + (c.dropout > 0.0f ? "_drop" : "");
}

// One random conv problem and its CPU reference results.
struct ConvProblem {
  RowLayout layout;
  Conv1dShape shape;
  DropoutSpec dropout;
  std::vector<float> x, w, b, y, dy, dpre, dx, dw, db;

  explicit ConvProblem(const ConvCase& c) {
    std::mt19937_64 rng(7 + static_cast<uint64_t>(c.in * 131 + c.out * 17 + c.kernel * 5 + c.dilation));
    const int halo = std::max(math::conv_pad_left(c.kernel, c.dilation), math::conv_reach_right(c.kernel, c.dilation));
    layout = make_layout(c.lengths, std::max(halo, 1), 0, 3);
    shape = Conv1dShape{layout.rows, layout.halo, c.in, c.out, c.kernel, c.dilation};
    dropout = DropoutSpec{c.dropout, 77, 5, 2};
    const auto rows = static_cast<size_t>(layout.rows);
    x = random_on_real_rows(rng, layout, c.in);
    w = random_floats(rng, static_cast<size_t>(c.kernel) * c.in * c.out, -0.5f, 0.5f);
    b = random_floats(rng, static_cast<size_t>(c.out), -0.2f, 0.2f);
    y.assign(rows * c.out, 0.0f);
    cpu::conv1d_forward(shape, x.data(), w.data(), b.data(), layout.row_is_real.data(), dropout, y.data());
    dy = random_on_real_rows(rng, layout, c.out, std::nanf(""));  // garbage on gap rows must not leak
    dpre.assign(rows * c.out, 0.0f);
    cpu::conv1d_epilogue_backward(layout.rows, c.out, y.data(), dy.data(), layout.row_is_real.data(),
                                  dropout.keep_scale(), dpre.data());
    dx.assign(rows * c.in, 0.0f);
    cpu::conv1d_backward_data(shape, w.data(), dpre.data(), dx.data());
    dw.assign(w.size(), 0.0f);
    db.assign(b.size(), 0.0f);
    cpu::conv1d_backward_weight(shape, x.data(), dpre.data(), dw.data(), db.data());
  }
  int64_t first() const { return shape.first_row(); }
  int64_t end() const { return shape.end_row(); }
};

class CudaConv1dParity : public ::testing::TestWithParam<ConvCase> {};

TEST_P(CudaConv1dParity, ForwardAndEpilogueMatchTheReference) {
  SEQCNN_REQUIRE_CUDA();
  const ConvProblem p(GetParam());
  const int out = p.shape.out_channels;
  cuda::Stream stream;
  auto d_x = cuda::to_device(p.x), d_w = cuda::to_device(p.w), d_b = cuda::to_device(p.b);
  auto d_real = cuda::to_device(p.layout.row_is_real);
  auto d_y = cuda::to_device(std::vector<float>(p.y.size(), kSentinel));
  cuda::conv1d_forward(p.shape, d_x.data(), d_w.data(), d_b.data(), d_real.data(), p.dropout, d_y.data(), stream.get());
  const std::vector<float> y = download(d_y, stream);
  EXPECT_LE(normwise_relative_error(row_range(y, out, p.first(), p.end()), row_range(p.y, out, p.first(), p.end())),
            kParity);
  EXPECT_TRUE(rows_hold(y, out, 0, p.first(), kSentinel) && rows_hold(y, out, p.end(), p.shape.rows, kSentinel))
      << "halo rows of y must never be written";
  for (int64_t r = p.first(); r < p.end(); ++r) {
    if (p.layout.row_is_real[static_cast<size_t>(r)] == 0) {
      ASSERT_TRUE(rows_hold(y, out, r, r + 1, 0.0f)) << "gap row " << r << " must be exactly 0";
    }
  }
  for (size_t i = static_cast<size_t>(p.first() * out); i < static_cast<size_t>(p.end() * out); ++i)
    ASSERT_EQ(y[i] == 0.0f, p.y[i] == 0.0f) << "ReLU/dropout zero pattern differs at element " << i;

  // The step read from device memory (graph replay) draws the same masks.
  DropoutSpec stale = p.dropout;
  stale.step = 999;
  auto d_step = cuda::to_device(std::vector<uint64_t>{p.dropout.step});
  auto d_y2 = cuda::to_device(std::vector<float>(p.y.size(), kSentinel));
  cuda::conv1d_forward(p.shape, d_x.data(), d_w.data(), d_b.data(), d_real.data(), stale, d_y2.data(), stream.get(),
                       d_step.data());
  EXPECT_TRUE(bitwise_equal(download(d_y2, stream), y));

  // Epilogue backward: one select and one multiply per element, so bitwise.
  auto d_yref = cuda::to_device(p.y), d_dy = cuda::to_device(p.dy);
  auto d_dpre = cuda::to_device(std::vector<float>(p.dpre.size(), kSentinel));
  cuda::conv1d_epilogue_backward(p.shape.rows, out, d_yref.data(), d_dy.data(), d_real.data(), p.dropout.keep_scale(),
                                 d_dpre.data(), stream.get());
  EXPECT_TRUE(bitwise_equal(download(d_dpre, stream), p.dpre));
}

TEST_P(CudaConv1dParity, BackwardDataAndWeightMatchTheReference) {
  SEQCNN_REQUIRE_CUDA();
  const ConvProblem p(GetParam());
  const int in = p.shape.in_channels;
  cuda::Stream stream;
  auto d_x = cuda::to_device(p.x), d_w = cuda::to_device(p.w), d_dpre = cuda::to_device(p.dpre);
  auto d_dx = cuda::to_device(std::vector<float>(p.dx.size(), kSentinel));
  cuda::conv1d_backward_data(p.shape, d_w.data(), d_dpre.data(), d_dx.data(), stream.get());
  const std::vector<float> dx = download(d_dx, stream);
  EXPECT_LE(normwise_relative_error(row_range(dx, in, p.first(), p.end()), row_range(p.dx, in, p.first(), p.end())),
            kParity);
  EXPECT_TRUE(rows_hold(dx, in, 0, p.first(), kSentinel) && rows_hold(dx, in, p.end(), p.shape.rows, kSentinel))
      << "halo rows of dx must never be written";

  TestWorkspace ws(cuda::conv1d_backward_weight_workspace_bytes(p.shape));
  auto d_dw = cuda::to_device(std::vector<float>(p.dw.size(), 0.0f));
  auto d_db = cuda::to_device(std::vector<float>(p.db.size(), 0.0f));
  cuda::conv1d_backward_weight(p.shape, d_x.data(), d_dpre.data(), d_dw.data(), d_db.data(), ws.get(), stream.get());
  const std::vector<float> dw = download(d_dw, stream), db = download(d_db, stream);
  EXPECT_LE(normwise_relative_error(dw, p.dw), kParity);
  EXPECT_LE(normwise_relative_error(db, p.db), kParity);

  // It accumulates: a second call adds the same amounts again, bitwise
  // (the chunking and summation order depend on the shape only).
  cuda::conv1d_backward_weight(p.shape, d_x.data(), d_dpre.data(), d_dw.data(), d_db.data(), ws.get(), stream.get());
  std::vector<float> twice_w = dw, twice_b = db;
  for (float& v : twice_w) v += v;
  for (float& v : twice_b) v += v;
  EXPECT_LE(normwise_relative_error(download(d_dw, stream), twice_w), kParity);
  EXPECT_LE(normwise_relative_error(download(d_db, stream), twice_b), kParity);
}

TEST_P(CudaConv1dParity, CudnnBaselineMatchesTheReference) {
  SEQCNN_REQUIRE_CUDA();
  const ConvProblem p(GetParam());
  const int in = p.shape.in_channels, out = p.shape.out_channels;
  cuda::Stream stream;
  cuda::CudnnHandle handle;
  const cuda::CudnnConv1d conv(handle.get(), p.shape);
  TestWorkspace ws(conv.workspace_bytes());
  auto d_x = cuda::to_device(p.x), d_w = cuda::to_device(p.w), d_b = cuda::to_device(p.b);
  auto d_real = cuda::to_device(p.layout.row_is_real);
  auto d_dpre = cuda::to_device(p.dpre);
  auto d_pre = cuda::to_device(std::vector<float>(p.y.size(), 0.0f));
  auto d_y = cuda::to_device(std::vector<float>(p.y.size(), kSentinel));
  conv.forward(d_x.data(), d_w.data(), d_pre.data(), ws.get(), stream.get());
  cuda::conv1d_bias_activation(p.shape, d_pre.data(), d_b.data(), d_real.data(), p.dropout, d_y.data(), stream.get());
  EXPECT_LE(normwise_relative_error(row_range(download(d_y, stream), out, p.first(), p.end()),
                                    row_range(p.y, out, p.first(), p.end())),
            kParity)
      << "cuDNN forward algorithm " << conv.forward_algorithm();

  auto d_dx = cuda::to_device(std::vector<float>(p.dx.size(), 0.0f));
  conv.backward_data(d_w.data(), d_dpre.data(), d_dx.data(), ws.get(), stream.get());
  EXPECT_LE(normwise_relative_error(row_range(download(d_dx, stream), in, p.first(), p.end()),
                                    row_range(p.dx, in, p.first(), p.end())),
            kParity)
      << "cuDNN backward data algorithm " << conv.backward_data_algorithm();

  auto d_dw = cuda::to_device(std::vector<float>(p.dw.size(), 0.0f));
  conv.backward_weight(d_x.data(), d_dpre.data(), d_dw.data(), ws.get(), stream.get());
  EXPECT_LE(normwise_relative_error(download(d_dw, stream), p.dw), kParity)
      << "cuDNN backward filter algorithm " << conv.backward_weight_algorithm();
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CudaConv1dParity,
    ::testing::Values(ConvCase{3, 17, 1, 1, {5, 0, 1, 30}, 0.0f}, ConvCase{3, 5, 2, 1, {1, 0, 1}, 0.0f},
                      ConvCase{17, 33, 3, 1, {40, 1, 0, 70}, 0.0f}, ConvCase{17, 33, 4, 2, {40, 1, 0, 70}, 0.25f},
                      ConvCase{33, 3, 5, 3, {90, 0, 1, 12}, 0.0f}, ConvCase{21, 64, 7, 1, {120, 1, 60}, 0.1f},
                      ConvCase{32, 32, 7, 8, {150, 1, 0, 3}, 0.0f}, ConvCase{33, 33, 15, 2, {100, 1, 40}, 0.0f},
                      ConvCase{16, 130, 3, 5, {80, 0, 1, 64}, 0.0f}, ConvCase{8, 17, 14, 1, {33, 1}, 0.5f},
                      ConvCase{5, 3, 3, 1, {1}, 0.0f},
                      ConvCase{7, 9, 3, 1, {0, 0}, 0.0f},     // all-masked: no real row
                      ConvCase{4, 6, 4, 2, {0}, 0.3f}),      // all-masked, with dropout
    conv_case_name);


// -------------------------------------------------------------------- dense

struct DenseCase {
  int in, classes;
  std::vector<int64_t> lengths;
};

void PrintTo(const DenseCase& c, std::ostream* os) {
  *os << "in " << c.in << ", classes " << c.classes << ", lengths " << lengths_text(c.lengths);
}

std::string dense_case_name(const ::testing::TestParamInfo<DenseCase>& info) {
  return "J" + std::to_string(info.param.in) + "_C" + std::to_string(info.param.classes);
}

class CudaDenseParity : public ::testing::TestWithParam<DenseCase> {};

TEST_P(CudaDenseParity, ForwardAndBackwardMatchTheReference) {
  SEQCNN_REQUIRE_CUDA();
  const DenseCase& c = GetParam();
  std::mt19937_64 rng(31 + static_cast<uint64_t>(c.in * 1009 + c.classes));
  const RowLayout layout = make_layout(c.lengths, 2, 0, 1);
  const int64_t rows = layout.rows;
  const std::vector<float> h = random_on_real_rows(rng, layout, c.in);
  const std::vector<float> w = random_floats(rng, static_cast<size_t>(c.classes) * c.in);
  const std::vector<float> b = random_floats(rng, static_cast<size_t>(c.classes));
  const std::vector<float> dlogits = random_on_real_rows(rng, layout, c.classes);
  std::vector<float> logits(static_cast<size_t>(rows) * c.classes), dh(static_cast<size_t>(rows) * c.in);
  std::vector<float> dw(w.size(), 0.0f), db(b.size(), 0.0f);
  cpu::dense_forward(rows, c.in, c.classes, h.data(), w.data(), b.data(), logits.data());
  cpu::dense_backward(rows, c.in, c.classes, h.data(), w.data(), dlogits.data(), dh.data(), dw.data(), db.data());

  cuda::Stream stream;
  cuda::CublasHandle cublas;
  auto d_h = cuda::to_device(h), d_w = cuda::to_device(w), d_b = cuda::to_device(b), d_dl = cuda::to_device(dlogits);
  auto d_logits = cuda::to_device(std::vector<float>(logits.size(), kSentinel));
  auto d_dh = cuda::to_device(std::vector<float>(dh.size(), kSentinel));
  auto d_dw = cuda::to_device(std::vector<float>(dw.size(), 0.0f));
  auto d_db = cuda::to_device(std::vector<float>(db.size(), 0.0f));
  TestWorkspace ws(cuda::dense_backward_workspace_bytes(rows, c.classes));
  cuda::dense_forward(cublas.get(), rows, c.in, c.classes, d_h.data(), d_w.data(), d_b.data(), d_logits.data(),
                      stream.get());
  cuda::dense_backward(cublas.get(), rows, c.in, c.classes, d_h.data(), d_w.data(), d_dl.data(), d_dh.data(),
                       d_dw.data(), d_db.data(), ws.get(), stream.get());
  EXPECT_LE(normwise_relative_error(download(d_logits, stream), logits), kParity);
  EXPECT_LE(normwise_relative_error(download(d_dh, stream), dh), kParity);
  EXPECT_LE(normwise_relative_error(download(d_dw, stream), dw), kParity);
  EXPECT_LE(normwise_relative_error(download(d_db, stream), db), kParity);
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaDenseParity,
                         ::testing::Values(DenseCase{3, 3, {5, 0, 1, 30}}, DenseCase{17, 8, {100, 1, 0, 40}},
                                           DenseCase{64, 3, {1}}, DenseCase{33, 1000, {60, 0, 1, 20}},
                                           DenseCase{128, 9, {250, 1, 0, 200}}),
                         dense_case_name);

// ------------------------------------------------------------- softmax_xent

struct XentCase {
  int classes;
  float smoothing;
  bool weighted;
  std::vector<int64_t> lengths;
};

void PrintTo(const XentCase& c, std::ostream* os) {
  *os << "classes " << c.classes << ", smoothing " << c.smoothing << (c.weighted ? ", class weights" : "")
      << ", lengths " << lengths_text(c.lengths);
}

std::string xent_case_name(const ::testing::TestParamInfo<XentCase>& info) {
  return "C" + std::to_string(info.param.classes) + (info.param.smoothing > 0.0f ? "_smooth" : "") +
         (info.param.weighted ? "_weighted" : "");
}

class CudaSoftmaxXentParity : public ::testing::TestWithParam<XentCase> {};

TEST_P(CudaSoftmaxXentParity, LossCountsAndGradientMatchTheReference) {
  SEQCNN_REQUIRE_CUDA();
  const XentCase& c = GetParam();
  std::mt19937_64 rng(57 + static_cast<uint64_t>(c.classes));
  const RowLayout layout = make_layout(c.lengths, 1, 0, 2);
  const auto rows = static_cast<size_t>(layout.rows);
  std::vector<float> logits = random_floats(rng, rows * c.classes, -4.0f, 4.0f);
  std::vector<int32_t> labels(rows, -1);
  std::vector<float> scale(rows, 0.0f);
  std::uniform_int_distribution<int32_t> label(0, c.classes - 1), one_in(0, 5);
  for (size_t r = 0; r < rows; ++r) {
    if (layout.row_is_real[r] == 0 || one_in(rng) == 0) {
      // Rows that do not count hold garbage: it must not reach the loss or dlogits.
      for (int k = 0; k < c.classes; ++k) logits[r * c.classes + k] = k % 2 ? std::nanf("") : -INFINITY;
      continue;
    }
    labels[r] = label(rng);
    scale[r] = one_in(rng) == 1 ? 0.0f : 0.01f;  // some labelled rows still do not count
  }
  // A -inf logit on a counted row, not its label, gives a finite loss
  // (without smoothing, which would count -log p of that class too).
  for (size_t r = 0; r < rows && c.smoothing == 0.0f; ++r)
    if (scale[r] != 0.0f && c.classes > 1) {
      logits[r * c.classes + static_cast<size_t>((labels[r] + 1) % c.classes)] = -INFINITY;
      break;
    }
  std::vector<float> weights;
  if (c.weighted) weights = random_floats(rng, static_cast<size_t>(c.classes), 0.0f, 2.0f);
  if (c.weighted) weights[0] = 0.0f;  // a zero weight is skipped, never multiplied
  const float* w_cpu = c.weighted ? weights.data() : nullptr;
  std::vector<float> dlogits(logits.size());
  const cpu::XentTotals ref = cpu::softmax_xent(layout.rows, c.classes, logits.data(), labels.data(), scale.data(),
                                                w_cpu, c.smoothing, dlogits.data());
  ASSERT_GT(ref.counted, 0);

  cuda::Stream stream;
  auto d_logits = cuda::to_device(logits), d_scale = cuda::to_device(scale);
  auto d_labels = cuda::to_device(labels);
  auto d_weights = cuda::to_device(weights);
  auto d_dlogits = cuda::to_device(std::vector<float>(logits.size(), kSentinel));
  auto d_totals = cuda::to_device(std::vector<cuda::DeviceXentTotals>{{0.0, 0, 0}});
  TestWorkspace ws(cuda::softmax_xent_workspace_bytes(layout.rows));
  cuda::softmax_xent(layout.rows, c.classes, d_logits.data(), d_labels.data(), d_scale.data(),
                     c.weighted ? d_weights.data() : nullptr, c.smoothing, d_dlogits.data(), d_totals.data(), ws.get(),
                     stream.get());
  const std::vector<float> dl = download(d_dlogits, stream);
  const cuda::DeviceXentTotals got = download(d_totals, stream)[0];
  EXPECT_LE(std::abs(got.loss - ref.loss) / std::max(std::abs(got.loss), std::abs(ref.loss)), kParity);
  EXPECT_EQ(got.counted, ref.counted);
  EXPECT_EQ(got.correct, ref.correct);
  EXPECT_LE(normwise_relative_error(dl, dlogits), kParity);
  for (size_t r = 0; r < rows; ++r) {
    const auto row = static_cast<int64_t>(r);
    if (scale[r] == 0.0f) {
      ASSERT_TRUE(rows_hold(dl, c.classes, row, row + 1, 0.0f)) << "row " << r << " does not count";
    }
  }

  // Totals accumulate, with no host round trip in between.
  cuda::softmax_xent(layout.rows, c.classes, d_logits.data(), d_labels.data(), d_scale.data(),
                     c.weighted ? d_weights.data() : nullptr, c.smoothing, nullptr, d_totals.data(), ws.get(),
                     stream.get());
  const cuda::DeviceXentTotals twice = download(d_totals, stream)[0];
  EXPECT_EQ(twice.loss, got.loss + got.loss);
  EXPECT_EQ(twice.counted, 2 * got.counted);
}

INSTANTIATE_TEST_SUITE_P(Classes, CudaSoftmaxXentParity,
                         ::testing::Values(XentCase{3, 0.0f, false, {30, 0, 1, 50}}, XentCase{3, 0.1f, true, {80, 1}},
                                           XentCase{8, 0.0f, true, {100, 7}}, XentCase{31, 0.2f, false, {40, 1}},
                                           XentCase{32, 0.0f, false, {40, 0, 3}}, XentCase{33, 0.05f, true, {40}},
                                           XentCase{1000, 0.1f, true, {20, 1, 0, 9}}, XentCase{1001, 0.0f, false, {17}}),
                         xent_case_name);

TEST(CudaSoftmaxXentParity, AllMaskedBatchGivesZeroLossAndZeroGradient) {
  SEQCNN_REQUIRE_CUDA();
  const int64_t rows = 70;
  const int classes = 5;
  std::mt19937_64 rng(3);
  auto d_logits = cuda::to_device(random_floats(rng, rows * classes));
  auto d_labels = cuda::to_device(std::vector<int32_t>(rows, -1));
  auto d_scale = cuda::to_device(std::vector<float>(rows, 0.0f));
  auto d_dlogits = cuda::to_device(std::vector<float>(rows * classes, kSentinel));
  auto d_totals = cuda::to_device(std::vector<cuda::DeviceXentTotals>{{0.0, 0, 0}});
  cuda::Stream stream;
  TestWorkspace ws(cuda::softmax_xent_workspace_bytes(rows));
  cuda::softmax_xent(rows, classes, d_logits.data(), d_labels.data(), d_scale.data(), nullptr, 0.0f, d_dlogits.data(),
                     d_totals.data(), ws.get(), stream.get());
  const cuda::DeviceXentTotals got = download(d_totals, stream)[0];
  EXPECT_EQ(got.loss, 0.0);
  EXPECT_EQ(got.counted, 0);
  EXPECT_TRUE(rows_hold(download(d_dlogits, stream), classes, 0, rows, 0.0f));
}

TEST(CudaSoftmaxForwardParity, ProbabilitiesMatchTheReference) {
  SEQCNN_REQUIRE_CUDA();
  for (int classes : {1, 3, 32, 33, 1000}) {
    std::mt19937_64 rng(11 + static_cast<uint64_t>(classes));
    const int64_t rows = 37;
    std::vector<float> logits = random_floats(rng, rows * classes, -6.0f, 6.0f);
    std::fill_n(logits.begin(), classes, -INFINITY);  // all -inf: uniform, as on the CPU
    std::vector<float> probs(logits.size());
    cpu::softmax_forward(rows, classes, logits.data(), probs.data());
    cuda::Stream stream;
    auto d_logits = cuda::to_device(logits);
    auto d_probs = cuda::to_device(std::vector<float>(probs.size(), kSentinel));
    cuda::softmax_forward(rows, classes, d_logits.data(), d_probs.data(), stream.get());
    EXPECT_LE(normwise_relative_error(download(d_probs, stream), probs), kParity) << classes << " classes";
  }
}

// -------------------------------------------------------------------- AdamW

TEST(CudaAdamWParity, UpdateMatchesTheReferenceInEveryDecayGroup) {
  SEQCNN_REQUIRE_CUDA();
  const int64_t n = 100003;
  std::mt19937_64 rng(5);
  const std::vector<float> p0 = random_floats(rng, n), g = random_floats(rng, n, -0.1f, 0.1f);
  const std::vector<float> m0 = random_floats(rng, n, -0.01f, 0.01f), v0 = random_floats(rng, n, 0.0f, 1e-3f);
  cpu::AdamWHyper hyper;
  hyper.lr = 3e-3;
  hyper.step = 7;
  hyper.weights_end = 40000;
  hyper.embedding_end = 90001;
  hyper.decay_weights = 0.05;
  hyper.decay_embedding = 0.01;
  hyper.decay_bias = 0.002;
  hyper.grad_scale = 0.5;
  std::vector<float> p = p0, m = m0, v = v0;
  cpu::adamw_update(n, p.data(), g.data(), m.data(), v.data(), hyper);

  cuda::AdamWConstants constants;
  constants.beta1 = static_cast<float>(hyper.beta1);
  constants.beta2 = static_cast<float>(hyper.beta2);
  constants.eps = static_cast<float>(hyper.eps);
  constants.weights_end = hyper.weights_end;
  constants.embedding_end = hyper.embedding_end;
  constants.decay_weights = static_cast<float>(hyper.decay_weights);
  constants.decay_embedding = static_cast<float>(hyper.decay_embedding);
  constants.decay_bias = static_cast<float>(hyper.decay_bias);
  cuda::AdamWStepInputs inputs =
      cuda::adamw_step_inputs(hyper.lr, hyper.beta1, hyper.beta2, hyper.step, hyper.grad_scale);
  cuda::Stream stream;
  auto d_p = cuda::to_device(p0), d_g = cuda::to_device(g), d_m = cuda::to_device(m0), d_v = cuda::to_device(v0);
  auto d_inputs = cuda::to_device(std::vector<cuda::AdamWStepInputs>{inputs});
  cuda::adamw_update(n, d_p.data(), d_g.data(), d_m.data(), d_v.data(), constants, d_inputs.data(), stream.get());
  EXPECT_LE(normwise_relative_error(download(d_p, stream), p), kParity);
  EXPECT_LE(normwise_relative_error(download(d_m, stream), m), kParity);
  EXPECT_LE(normwise_relative_error(download(d_v, stream), v), kParity);

  // apply = 0 (a refused step): nothing moves, bitwise.
  inputs.apply = 0;
  auto d_p2 = cuda::to_device(p0), d_m2 = cuda::to_device(m0), d_v2 = cuda::to_device(v0);
  auto d_off = cuda::to_device(std::vector<cuda::AdamWStepInputs>{inputs});
  cuda::adamw_update(n, d_p2.data(), d_g.data(), d_m2.data(), d_v2.data(), constants, d_off.data(), stream.get());
  EXPECT_TRUE(bitwise_equal(download(d_p2, stream), p0));
  EXPECT_TRUE(bitwise_equal(download(d_m2, stream), m0));
  EXPECT_TRUE(bitwise_equal(download(d_v2, stream), v0));
}

TEST(CudaAdamWParity, SumOfSquaresMatchesTheReferenceAndRepeatsBitwise) {
  SEQCNN_REQUIRE_CUDA();
  for (int64_t n : {int64_t{1}, int64_t{8191}, int64_t{8192}, int64_t{8193}, int64_t{1000003}}) {
    std::mt19937_64 rng(static_cast<uint64_t>(n));
    const std::vector<float> values = random_floats(rng, static_cast<size_t>(n));
    const double ref = cpu::sum_of_squares(n, values.data());
    cuda::Stream stream;
    auto d_values = cuda::to_device(values);
    auto d_result = cuda::to_device(std::vector<double>{-1.0, -1.0});
    TestWorkspace ws(cuda::sum_of_squares_workspace_bytes(n));
    cuda::sum_of_squares(n, d_values.data(), d_result.data(), ws.get(), stream.get());
    cuda::sum_of_squares(n, d_values.data(), d_result.data() + 1, ws.get(), stream.get());
    const std::vector<double> got = download(d_result, stream);
    EXPECT_LE(std::abs(got[0] - ref) / ref, 1e-12) << n << " values";
    EXPECT_EQ(got[0], got[1]) << "two runs must agree bitwise";
  }
}

}  // namespace
}  // namespace seqcnn::testing

#else  // built without CUDA

TEST(CudaParity, SkipsWithoutCuda) { SEQCNN_REQUIRE_CUDA(); }

#endif
