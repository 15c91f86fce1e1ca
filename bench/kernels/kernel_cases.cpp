#include "kernel_cases.hpp"

#include <algorithm>
#include <cstdio>

#include "common/op_math.hpp"

namespace seqcnn::bench {

const char* op_name(Op op) {
  switch (op) {
    case Op::EmbeddingForward: return "embedding_forward";
    case Op::EmbeddingBackward: return "embedding_backward";
    case Op::ConvForward: return "conv1d_forward";
    case Op::ConvEpilogueBackward: return "conv1d_epilogue_backward";
    case Op::ConvBackwardData: return "conv1d_backward_data";
    case Op::ConvBackwardWeight: return "conv1d_backward_weight";
    case Op::SoftmaxXent: return "softmax_xent";
    case Op::AdamW: return "adamw";
    case Op::DenseForward: return "dense_forward";
    case Op::DenseBackward: return "dense_backward";
  }
  return "unknown";
}

namespace {

bool is_conv(Op op) {
  return op == Op::ConvForward || op == Op::ConvBackwardData || op == Op::ConvBackwardWeight;
}

}  // namespace

int KernelCase::halo() const {
  // Every layout keeps at least one zero row around a sequence; a conv needs its reach.
  return is_conv(op) ? std::max(1, math::conv_reach_right(kernel, dilation)) : 0;
}

int64_t KernelCase::computed_rows() const { return std::max<int64_t>(0, rows - 2 * int64_t{halo()}); }

std::string KernelCase::shape() const {
  char text[128];
  switch (op) {
    case Op::EmbeddingForward:
    case Op::EmbeddingBackward:
      std::snprintf(text, sizeof text, "V %d E %d", vocab, channels_out);
      break;
    case Op::ConvForward:
    case Op::ConvBackwardData:
    case Op::ConvBackwardWeight:
      std::snprintf(text, sizeof text, "C %d->%d K%d d%d%s", channels_in, channels_out, kernel, dilation,
                    dropout > 0.0f ? " drop" : "");
      break;
    case Op::ConvEpilogueBackward:
      std::snprintf(text, sizeof text, "C %d", channels_out);
      break;
    case Op::SoftmaxXent:
      std::snprintf(text, sizeof text, "classes %d", classes);
      break;
    case Op::AdamW:
      std::snprintf(text, sizeof text, "params %lld", static_cast<long long>(params));
      break;
    case Op::DenseForward:
    case Op::DenseBackward:
      std::snprintf(text, sizeof text, "J %d C %d", channels_in, classes);
      break;
  }
  return text;
}

Work compulsory_work(const KernelCase& c) {
  constexpr double f = 4.0;  // bytes per float
  const double rows = static_cast<double>(c.rows);
  const double computed = static_cast<double>(c.computed_rows());
  const double in = c.channels_in, out = c.channels_out, taps = c.kernel, classes = c.classes;
  const double weights = taps * in * out;
  Work w;
  switch (c.op) {
    case Op::EmbeddingForward: {
      // tokens + mask in, rows x E out, and the table rows that are used once each.
      const double used_rows = std::min(static_cast<double>(c.vocab), rows);
      w.bytes = rows * (4.0 + 1.0 + f * out) + used_rows * out * f;
      w.flops = 0.0;
      break;
    }
    case Op::EmbeddingBackward: {
      const double used_rows = std::min(static_cast<double>(c.vocab), rows);
      w.bytes = rows * (4.0 + 1.0 + f * out) + 2.0 * used_rows * out * f;  // dtable read and written
      w.flops = rows * out;
      break;
    }
    case Op::ConvForward:
      w.bytes = f * (rows * in + weights + out + computed * out) + rows;
      w.flops = 2.0 * computed * weights + 2.0 * computed * out;  // + bias and ReLU
      break;
    case Op::ConvEpilogueBackward:
      w.bytes = f * 3.0 * rows * out + rows;  // y, dy in; dpre out
      w.flops = rows * out;
      break;
    case Op::ConvBackwardData:
      w.bytes = f * (rows * out + weights + computed * in);
      w.flops = 2.0 * computed * weights;
      break;
    case Op::ConvBackwardWeight:
      w.bytes = f * (rows * in + rows * out + 2.0 * (weights + out));  // dW and db accumulate
      w.flops = 2.0 * computed * weights + computed * out;
      break;
    case Op::SoftmaxXent:
      // logits in, labels and row scales in, dlogits out; max, exp, sum, divide, gradient.
      w.bytes = f * 2.0 * rows * classes + 8.0 * rows;
      w.flops = 5.0 * rows * classes;
      break;
    case Op::AdamW:
      // params, grads, m, v in; params, m, v out.
      w.bytes = 7.0 * f * static_cast<double>(c.params);
      w.flops = 16.0 * static_cast<double>(c.params);
      break;
    case Op::DenseForward:
      w.bytes = f * (rows * in + classes * in + classes + rows * classes);
      w.flops = 2.0 * rows * in * classes;
      break;
    case Op::DenseBackward:
      // h, dlogits, W in; dh out; dW, db accumulate.
      w.bytes = f * (2.0 * rows * in + rows * classes + classes * in + 2.0 * (classes * in + classes));
      w.flops = 4.0 * rows * in * classes + rows * classes;
      break;
  }
  return w;
}

namespace {

constexpr int64_t kRowsMain = 262144;

KernelCase conv(Op op, const char* sweep, int64_t rows, int in, int out, int kernel, int dilation,
                float dropout = 0.0f) {
  KernelCase c;
  c.op = op;
  c.sweep = sweep;
  c.rows = rows;
  c.channels_in = in;
  c.channels_out = out;
  c.kernel = kernel;
  c.dilation = dilation;
  c.dropout = dropout;
  return c;
}

void add_conv_directions(std::vector<KernelCase>& cases, const char* sweep, int64_t rows, int in, int out,
                         int kernel, int dilation) {
  for (Op op : {Op::ConvForward, Op::ConvBackwardData, Op::ConvBackwardWeight})
    cases.push_back(conv(op, sweep, rows, in, out, kernel, dilation));
}

KernelCase embedding(Op op, const char* sweep, int64_t rows, int vocab, int dim) {
  KernelCase c;
  c.op = op;
  c.sweep = sweep;
  c.rows = rows;
  c.vocab = vocab;
  c.channels_out = dim;
  return c;
}

KernelCase softmax(const char* sweep, int64_t rows, int classes) {
  KernelCase c;
  c.op = Op::SoftmaxXent;
  c.sweep = sweep;
  c.rows = rows;
  c.classes = classes;
  return c;
}

KernelCase adamw(const char* sweep, int64_t params) {
  KernelCase c;
  c.op = Op::AdamW;
  c.sweep = sweep;
  c.params = params;
  return c;
}

KernelCase dense(Op op, const char* sweep, int64_t rows, int features, int classes) {
  KernelCase c;
  c.op = op;
  c.sweep = sweep;
  c.rows = rows;
  c.channels_in = features;
  c.classes = classes;
  return c;
}

KernelCase epilogue(const char* sweep, int64_t rows, int channels) {
  KernelCase c;
  c.op = Op::ConvEpilogueBackward;
  c.sweep = sweep;
  c.rows = rows;
  c.channels_out = channels;
  return c;
}

// Parameter counts of the seed, default and wide (5 x 256, K11) models with
// 3 classes, and a token model with a 50k vocabulary.
constexpr int64_t kSeedParams = 22 * 32 + 3 * 32 * 64 + 64 + 64 * 3 + 3;
constexpr int64_t kDefaultParams = 22 * 32 + 11 * 32 * 128 + 128 + 11 * 128 * 128 + 128 + 128 * 3 + 3;
constexpr int64_t kWideParams = 22 * 32 + 11 * 32 * 256 + 4 * 11 * 256 * 256 + 5 * 256 + 256 * 3 + 3;
constexpr int64_t kTokenModelParams = 50000 * 128 + 11 * 128 * 256 + 11 * 256 * 256 + 2 * 256 + 256 * 20 + 20;

std::vector<KernelCase> quick_sweep() {
  const int64_t rows = kRowsMain;
  std::vector<KernelCase> c;
  c.push_back(embedding(Op::EmbeddingForward, "quick", rows, 25, 32));
  c.push_back(embedding(Op::EmbeddingBackward, "quick", rows, 25, 32));
  add_conv_directions(c, "quick", rows, 32, 128, 11, 1);
  add_conv_directions(c, "quick", rows, 128, 128, 11, 1);
  c.push_back(epilogue("quick", rows, 128));
  c.push_back(softmax("quick", rows, 3));
  c.push_back(adamw("quick", kDefaultParams));
  c.push_back(dense(Op::DenseForward, "quick", rows, 128, 3));
  c.push_back(dense(Op::DenseBackward, "quick", rows, 128, 3));
  return c;
}

std::vector<KernelCase> full_sweep() {
  std::vector<KernelCase> c;
  // Embedding: protein (25) and token (50k) vocabularies, narrow and wide.
  for (Op op : {Op::EmbeddingForward, Op::EmbeddingBackward}) {
    c.push_back(embedding(op, "rows", 16384, 25, 32));
    for (int64_t rows : {kRowsMain, int64_t{2097152}})
      for (int vocab : {25, 50000})
        for (int dim : {32, 128}) c.push_back(embedding(op, "vocab", rows, vocab, dim));
  }
  // Conv: the layers of the seed, default and wide models ...
  add_conv_directions(c, "model", kRowsMain, 32, 64, 3, 1);
  add_conv_directions(c, "model", kRowsMain, 32, 128, 11, 1);
  add_conv_directions(c, "model", kRowsMain, 128, 128, 11, 1);
  c.push_back(conv(Op::ConvForward, "model", kRowsMain, 128, 128, 11, 1, 0.4f));
  add_conv_directions(c, "model", kRowsMain, 256, 256, 11, 1);
  // ... then one knob at a time around the default layer (128 -> 128, K11, d1);
  // the dilation sweep is around K5 (its d1 point is in the kernel sweep).
  for (int width : {32, 64, 512}) add_conv_directions(c, "width", kRowsMain, width, width, 11, 1);
  for (int kernel : {3, 5, 7, 15}) add_conv_directions(c, "kernel", kRowsMain, 128, 128, kernel, 1);
  for (int dilation : {2, 4, 8}) add_conv_directions(c, "dilation", kRowsMain, 128, 128, 5, dilation);
  for (int64_t rows : {int64_t{16384}, int64_t{131072}, int64_t{1048576}, int64_t{2097152}})
    add_conv_directions(c, "rows", rows, 128, 128, 11, 1);
  for (int width : {32, 128, 512}) c.push_back(epilogue("width", kRowsMain, width));
  // Softmax + cross-entropy: 3 (Q3), 8 (Q8), token tag sets up to 1000.
  for (int classes : {3, 8, 20, 100, 1000}) c.push_back(softmax("classes", kRowsMain, classes));
  c.push_back(softmax("rows", 16384, 3));
  c.push_back(softmax("rows", 2097152, 3));
  c.push_back(softmax("rows", 2097152, 8));
  // AdamW over the flat buffers of the seed, default, wide and a 50k-token model.
  for (int64_t params : {kSeedParams, kDefaultParams, kWideParams, kTokenModelParams})
    c.push_back(adamw("model", params));
  // Dense: features x classes.
  for (Op op : {Op::DenseForward, Op::DenseBackward}) {
    for (int features : {64, 128, 256, 512})
      for (int classes : {3, 8}) c.push_back(dense(op, "features", kRowsMain, features, classes));
    c.push_back(dense(op, "classes", kRowsMain, 256, 1000));
    c.push_back(dense(op, "rows", 2097152, 128, 3));
  }
  return c;
}

}  // namespace

std::vector<KernelCase> kernel_sweep(SweepSize size) {
  return size == SweepSize::Quick ? quick_sweep() : full_sweep();
}

KernelCase scale_for_cpu(KernelCase c) {
  if (c.rows == 0) return c;  // AdamW: no rows
  int64_t rows = std::max<int64_t>(4096, c.rows / kCpuRowDivisor);
  KernelCase probe = c;
  probe.rows = 1024;
  const double flops_per_row = compulsory_work(probe).flops / 1024.0;
  if (flops_per_row > 0.0 && flops_per_row * static_cast<double>(rows) > kCpuFlopCap) {
    const auto capped = static_cast<int64_t>(kCpuFlopCap / flops_per_row) / 1024 * 1024;
    rows = std::max<int64_t>(4096, capped);
  }
  c.rows = std::min(c.rows, rows);
  return c;
}

}  // namespace seqcnn::bench
