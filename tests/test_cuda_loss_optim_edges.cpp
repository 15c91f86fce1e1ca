// The loss, optimiser and reduction kernels beyond the shape sweep of
// test_cuda_parity.cpp: softmax-xent under the row scales of each of the
// three reductions (accumulated over two micro-batches), all-masked steps
// with class weights and smoothing, AdamW with the clip scale and the update
// decision computed on the device, and the deterministic reductions
// repeated bitwise. Every test skips, with the reason, when no GPU is usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cuda_test_support.hpp"

#if defined(SEQCNN_HAVE_CUDA)
#include "../cuda/adamw.hpp"
#include "../cuda/engine_state.hpp"
#include "../cuda/reduce.hpp"
#include "../cuda/softmax_xent.hpp"
#include "common/op_math.hpp"
#include "cpu/adamw.hpp"
#include "cpu/softmax_xent.hpp"
#include "grad_check.hpp"
#include "train/loss_scale.hpp"

namespace seqcnn::testing {
namespace {

constexpr double kParity = 1e-6;

double relative(double a, double b) {
  const double scale = std::max(std::abs(a), std::abs(b));
  return scale == 0.0 ? 0.0 : std::abs(a - b) / scale;
}

// A packed batch of these sequences (halo 1) with random labels, about one
// in six unknown, and sequence `unlabelled` (if any) with no label at all.
Batch labelled_batch(std::mt19937_64& rng, const std::vector<int64_t>& lengths, int classes, int unlabelled = -1) {
  const RowLayout layout = make_layout(lengths, 1, 0, 2);
  Batch b;
  b.rows = layout.rows;
  b.halo = layout.halo;
  b.tokens.assign(static_cast<size_t>(b.rows), 0);
  b.labels.assign(static_cast<size_t>(b.rows), kIgnoreLabel);
  b.row_is_real = layout.row_is_real;
  std::uniform_int_distribution<int32_t> label(0, classes - 1), one_in(0, 5);
  for (size_t s = 0; s < lengths.size(); ++s) {
    b.sequences.push_back(SequenceSlot{layout.starts[s], lengths[s], static_cast<int32_t>(s)});
    for (int64_t t = 0; t < lengths[s]; ++t) {
      const auto r = static_cast<size_t>(layout.starts[s] + t);
      b.tokens[r] = 1;
      if (static_cast<int>(s) != unlabelled && one_in(rng) != 0) b.labels[r] = label(rng);
    }
  }
  return b;
}

// Random logits, with NaN and -inf garbage on rows that do not count.
std::vector<float> logits_for(std::mt19937_64& rng, const Batch& b, const std::vector<float>& scale, int classes) {
  std::vector<float> z = random_floats(rng, static_cast<size_t>(b.rows) * classes, -4.0f, 4.0f);
  for (size_t r = 0; r < static_cast<size_t>(b.rows); ++r)
    if (scale[r] == 0.0f)
      for (int c = 0; c < classes; ++c) z[r * classes + c] = c % 2 ? std::nanf("") : -INFINITY;
  return z;
}

// ------------------------------------------------ softmax-xent: reductions

struct ReductionCase {
  Reduction reduction;
  bool weighted;
  float smoothing;
};

void PrintTo(const ReductionCase& c, std::ostream* os) {
  *os << to_string(c.reduction) << (c.weighted ? ", class weights" : "") << ", smoothing " << c.smoothing;
}

class CudaSoftmaxXentReductions : public ::testing::TestWithParam<ReductionCase> {};

TEST_P(CudaSoftmaxXentReductions, TwoMicroBatchesMatchTheReference) {
  SEQCNN_REQUIRE_CUDA();
  const ReductionCase& c = GetParam();
  const int classes = 5;
  std::mt19937_64 rng(static_cast<uint64_t>(c.reduction) * 10 + (c.weighted ? 1 : 0));
  std::vector<Batch> batches{labelled_batch(rng, {30, 0, 1, 45, 12}, classes, 3),
                             labelled_batch(rng, {70, 2, 9}, classes)};
  LossConfig loss;
  loss.reduction = c.reduction;
  loss.label_smoothing = c.smoothing;
  if (c.weighted) loss.class_weights = {1.0, 0.0, 2.5, 0.5, 1.0};
  std::vector<MicroBatch> micro{MicroBatch{&batches[0], {}, 0}, MicroBatch{&batches[1], {}, 1}};
  ASSERT_GT(fill_row_scales(micro, loss), 0.0);
  const std::vector<float> weights(loss.class_weights.begin(), loss.class_weights.end());
  const float* w_cpu = c.weighted ? weights.data() : nullptr;

  cuda::Stream stream;
  auto d_weights = cuda::to_device(weights);
  auto d_totals = cuda::to_device(std::vector<cuda::DeviceXentTotals>{{0.0, 0, 0}});
  cpu::XentTotals ref;
  double plain_nll = 0.0;  // sum of -log p_y over counted rows, for the plain token mean
  for (size_t i = 0; i < micro.size(); ++i) {
    const Batch& b = batches[i];
    const std::vector<float>& scale = micro[i].row_scale;
    const std::vector<float> z = logits_for(rng, b, scale, classes);
    std::vector<float> dz(z.size());
    const cpu::XentTotals part = cpu::softmax_xent(b.rows, classes, z.data(), b.labels.data(), scale.data(), w_cpu,
                                                   c.smoothing, dz.data());
    ref.loss += part.loss;
    ref.counted += part.counted;
    ref.correct += part.correct;
    for (size_t r = 0; r < static_cast<size_t>(b.rows); ++r) {
      if (scale[r] == 0.0f) continue;
      double sum = 0.0;
      for (int k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(z[r * classes + k]));
      plain_nll += std::log(sum) - z[r * classes + static_cast<size_t>(b.labels[r])];
    }

    auto d_z = cuda::to_device(z), d_scale = cuda::to_device(scale);
    auto d_labels = cuda::to_device(b.labels);
    auto d_dz = cuda::to_device(std::vector<float>(z.size(), kSentinel));
    TestWorkspace ws(cuda::softmax_xent_workspace_bytes(b.rows));
    cuda::softmax_xent(b.rows, classes, d_z.data(), d_labels.data(), d_scale.data(),
                       c.weighted ? d_weights.data() : nullptr, c.smoothing, d_dz.data(), d_totals.data(), ws.get(),
                       stream.get());
    EXPECT_LE(normwise_relative_error(download(d_dz, stream), dz), kParity) << "dlogits of micro-batch " << i;
  }
  const cuda::DeviceXentTotals got = download(d_totals, stream)[0];
  EXPECT_LE(relative(got.loss, ref.loss), kParity) << got.loss << " vs " << ref.loss;
  EXPECT_EQ(got.counted, ref.counted);
  EXPECT_EQ(got.correct, ref.correct);
  if (c.reduction == Reduction::TokenMean && !c.weighted && c.smoothing == 0.0f) {
    EXPECT_LE(relative(got.loss, plain_nll / static_cast<double>(got.counted)), kParity)
        << "the plain token mean is the mean of -log p_y over counted positions";
  }
}

std::string reduction_case_name(const ::testing::TestParamInfo<ReductionCase>& info) {
  std::string name(to_string(info.param.reduction));
  for (char& ch : name)
    if (ch == '-' || ch == ' ') ch = '_';
  return name + (info.param.weighted ? "_weighted_smooth" : "_plain");
}

INSTANTIATE_TEST_SUITE_P(
    Reductions, CudaSoftmaxXentReductions,
    ::testing::Values(ReductionCase{Reduction::TokenMean, false, 0.0f}, ReductionCase{Reduction::TokenMean, true, 0.1f},
                      ReductionCase{Reduction::Sum, false, 0.0f}, ReductionCase{Reduction::Sum, true, 0.1f},
                      ReductionCase{Reduction::SequenceMean, false, 0.0f},
                      ReductionCase{Reduction::SequenceMean, true, 0.1f}),
    reduction_case_name);

// An all-masked step with class weights and smoothing switched on: no label
// counts (or every counted label has weight 0), so the step's weight is 0,
// every row scale is 0, and the kernel gives loss 0 and dlogits exactly 0.
TEST(CudaSoftmaxXentEdges, AllMaskedStepWithWeightsAndSmoothingGivesZero) {
  SEQCNN_REQUIRE_CUDA();
  const int classes = 3;
  for (bool zero_weight_labels : {false, true}) {
    std::mt19937_64 rng(zero_weight_labels ? 2 : 1);
    Batch b = labelled_batch(rng, {20, 1, 0, 33}, classes, zero_weight_labels ? -1 : 0);
    if (!zero_weight_labels)
      std::fill(b.labels.begin(), b.labels.end(), kIgnoreLabel);
    else
      for (int32_t& y : b.labels)
        if (y != kIgnoreLabel) y = y % 2;  // classes 0 and 1 only, both of weight 0
    LossConfig loss;
    loss.label_smoothing = 0.1;
    loss.class_weights = {0.0, 0.0, 1.0};
    std::vector<MicroBatch> micro{MicroBatch{&b, {}, 0}};
    ASSERT_EQ(fill_row_scales(micro, loss), 0.0);
    const std::vector<float> weights{0.0f, 0.0f, 1.0f};
    const std::vector<float> z = random_floats(rng, static_cast<size_t>(b.rows) * classes, -4.0f, 4.0f);
    cuda::Stream stream;
    auto d_z = cuda::to_device(z), d_scale = cuda::to_device(micro[0].row_scale), d_weights = cuda::to_device(weights);
    auto d_labels = cuda::to_device(b.labels);
    auto d_dz = cuda::to_device(std::vector<float>(z.size(), kSentinel));
    auto d_totals = cuda::to_device(std::vector<cuda::DeviceXentTotals>{{0.0, 0, 0}});
    TestWorkspace ws(cuda::softmax_xent_workspace_bytes(b.rows));
    cuda::softmax_xent(b.rows, classes, d_z.data(), d_labels.data(), d_scale.data(), d_weights.data(), 0.1f,
                       d_dz.data(), d_totals.data(), ws.get(), stream.get());
    const cuda::DeviceXentTotals got = download(d_totals, stream)[0];
    EXPECT_EQ(got.loss, 0.0);
    EXPECT_EQ(got.counted, 0);
    EXPECT_EQ(got.correct, 0);
    EXPECT_TRUE(rows_hold(download(d_dz, stream), classes, 0, b.rows, 0.0f));
  }
}

// ------------------------------------------- AdamW: decisions on the device

template <class T>
T* field(cuda::DeviceEngineState* state, std::size_t offset) {
  return reinterpret_cast<T*>(reinterpret_cast<char*>(state) + offset);
}

// One step as the engine queues it: the gradient's sum of squares, then
// finish_step (non-finite guard, lr, bias corrections, clip scale) and the
// update reading its inputs from device memory.
void device_step(cuda::DeviceBuffer<cuda::DeviceEngineState>& state, long long call, const cuda::StepPolicy& policy,
                 int64_t n, cuda::DeviceBuffer<float>& p, const cuda::DeviceBuffer<float>& g,
                 cuda::DeviceBuffer<float>& m, cuda::DeviceBuffer<float>& v, const cuda::AdamWConstants& constants,
                 TestWorkspace& ws, const cuda::Stream& stream) {
  auto header = cuda::to_device(std::vector<cuda::StepHeader>{cuda::StepHeader{call}});
  cuda::begin_step(state.data(), stream.get());
  cuda::sum_of_squares(n, g.data(), field<double>(state.data(), offsetof(cuda::DeviceEngineState, grad_sum_squares)),
                       ws.get(), stream.get());
  cuda::finish_step(state.data(), header.data(), policy, stream.get());
  cuda::adamw_update(n, p.data(), g.data(), m.data(), v.data(), constants,
                     field<cuda::AdamWStepInputs>(state.data(), offsetof(cuda::DeviceEngineState, adamw)),
                     stream.get());
  stream.synchronize();  // `header` goes out of scope
}

TEST(CudaAdamWEdges, ClipScaleAndUpdateDecidedOnTheDeviceMatchTheReference) {
  SEQCNN_REQUIRE_CUDA();
  const int64_t n = 50001;
  std::mt19937_64 rng(6);
  const std::vector<float> p0 = random_floats(rng, n), g = random_floats(rng, n);
  cuda::StepPolicy policy;
  policy.lr = 1e-2;
  policy.total_steps = 100;
  policy.cosine = true;
  policy.min_lr_ratio = 0.1;
  policy.clip_norm = 1.0;  // the gradient's norm is ~130: clipping is active
  cuda::AdamWConstants constants;
  constants.weights_end = 30000;
  constants.embedding_end = 45000;
  constants.decay_weights = 0.05f;

  const double norm = std::sqrt(cpu::sum_of_squares(n, g.data()));
  cpu::AdamWHyper hyper;
  hyper.lr = math::scheduled_lr(policy.lr, 0, policy.warmup_steps, policy.total_steps, policy.cosine,
                                policy.min_lr_ratio);
  hyper.step = 1;
  hyper.weights_end = constants.weights_end;
  hyper.embedding_end = constants.embedding_end;
  hyper.decay_weights = constants.decay_weights;
  hyper.grad_scale = math::clip_scale(norm, policy.clip_norm);
  ASSERT_LT(hyper.grad_scale, 0.1);
  std::vector<float> p = p0, m(n, 0.0f), v(n, 0.0f);
  cpu::adamw_update(n, p.data(), g.data(), m.data(), v.data(), hyper);

  cuda::Stream stream;
  cuda::DeviceBuffer<cuda::DeviceEngineState> state(1, "test engine state");
  cuda::reset_engine_state(state.data(), stream.get());
  auto d_p = cuda::to_device(p0), d_g = cuda::to_device(g);
  auto d_m = cuda::to_device(std::vector<float>(n, 0.0f)), d_v = cuda::to_device(std::vector<float>(n, 0.0f));
  TestWorkspace ws(cuda::sum_of_squares_workspace_bytes(n));
  device_step(state, 7, policy, n, d_p, d_g, d_m, d_v, constants, ws, stream);
  const cuda::DeviceEngineState s = download(state, stream)[0];
  EXPECT_EQ(s.steps_taken, 1);
  EXPECT_EQ(s.adamw.apply, 1);
  EXPECT_LE(relative(s.last_grad_norm, norm), 1e-12);
  EXPECT_LE(relative(s.adamw.grad_scale, hyper.grad_scale), kParity);
  const std::vector<float> after = download(d_p, stream);
  EXPECT_LE(normwise_relative_error(after, p), kParity);
  EXPECT_LE(normwise_relative_error(download(d_m, stream), m), kParity);
  EXPECT_LE(normwise_relative_error(download(d_v, stream), v), kParity);

  // A NaN in the gradient: the device refuses the step; nothing moves.
  std::vector<float> poisoned = g;
  poisoned[12345] = std::nanf("");
  auto d_bad = cuda::to_device(poisoned);
  const std::vector<float> m1 = download(d_m, stream), v1 = download(d_v, stream);
  device_step(state, 8, policy, n, d_p, d_bad, d_m, d_v, constants, ws, stream);
  const cuda::DeviceEngineState refused = download(state, stream)[0];
  EXPECT_EQ(refused.adamw.apply, 0);
  EXPECT_EQ(refused.steps_taken, 1);
  EXPECT_EQ(refused.nonfinite_steps, 1);
  EXPECT_EQ(refused.first_nonfinite_step, 8);
  EXPECT_TRUE(bitwise_equal(download(d_p, stream), after));
  EXPECT_TRUE(bitwise_equal(download(d_m, stream), m1));
  EXPECT_TRUE(bitwise_equal(download(d_v, stream), v1));
}

// ------------------------------------------------ deterministic reductions

TEST(CudaReductions, ColumnSumsMatchTheReferenceAndRepeatBitwise) {
  SEQCNN_REQUIRE_CUDA();
  const std::pair<int64_t, int> shapes[] = {{1, 1}, {127, 3}, {128, 130}, {1000, 37}, {5000, 1}};
  for (const auto& [rows, cols] : shapes) {
    std::mt19937_64 rng(static_cast<uint64_t>(rows * 1000 + cols));
    const std::vector<float> src = random_floats(rng, static_cast<size_t>(rows) * cols);
    const std::vector<float> dst0 = random_floats(rng, static_cast<size_t>(cols));
    std::vector<double> ref(dst0.begin(), dst0.end());
    for (int c = 0; c < cols; ++c) {
      double sum = 0.0;
      for (int64_t r = 0; r < rows; ++r) sum += src[static_cast<size_t>(r * cols + c)];
      ref[static_cast<size_t>(c)] += sum;
    }
    cuda::Stream stream;
    auto d_src = cuda::to_device(src), d_a = cuda::to_device(dst0), d_b = cuda::to_device(dst0);
    TestWorkspace ws(cuda::column_sums_workspace_bytes(rows, cols));
    cuda::column_sums_accumulate(rows, cols, d_src.data(), d_a.data(), ws.get(), stream.get());
    cuda::column_sums_accumulate(rows, cols, d_src.data(), d_b.data(), ws.get(), stream.get());
    const std::vector<float> a = download(d_a, stream);
    EXPECT_LE(normwise_relative_error(a, ref), kParity) << rows << " x " << cols;
    EXPECT_TRUE(bitwise_equal(a, download(d_b, stream))) << rows << " x " << cols;
  }
}

TEST(CudaReductions, LossTotalsOverManyBlocksRepeatBitwise) {
  SEQCNN_REQUIRE_CUDA();
  const int64_t rows = 100000;
  const int classes = 8;
  std::mt19937_64 rng(17);
  const std::vector<float> z = random_floats(rng, static_cast<size_t>(rows) * classes, -3.0f, 3.0f);
  std::vector<int32_t> labels(static_cast<size_t>(rows));
  std::uniform_int_distribution<int32_t> label(-1, classes - 1);
  for (int32_t& y : labels) y = label(rng);
  const std::vector<float> scale(static_cast<size_t>(rows), 1.0f / static_cast<float>(rows));
  cuda::Stream stream;
  auto d_z = cuda::to_device(z), d_scale = cuda::to_device(scale);
  auto d_labels = cuda::to_device(labels);
  auto d_totals = cuda::to_device(std::vector<cuda::DeviceXentTotals>(2, cuda::DeviceXentTotals{0.0, 0, 0}));
  TestWorkspace ws(cuda::softmax_xent_workspace_bytes(rows));
  for (int run = 0; run < 2; ++run)
    cuda::softmax_xent(rows, classes, d_z.data(), d_labels.data(), d_scale.data(), nullptr, 0.0f, nullptr,
                       d_totals.data() + run, ws.get(), stream.get());
  const std::vector<cuda::DeviceXentTotals> got = download(d_totals, stream);
  EXPECT_EQ(std::memcmp(&got[0].loss, &got[1].loss, sizeof(double)), 0);
  EXPECT_EQ(got[0].counted, got[1].counted);
  const cpu::XentTotals ref =
      cpu::softmax_xent(rows, classes, z.data(), labels.data(), scale.data(), static_cast<const float*>(nullptr),
                        0.0f, static_cast<float*>(nullptr));
  EXPECT_LE(relative(got[0].loss, ref.loss), kParity);
  EXPECT_EQ(got[0].counted, ref.counted);
  EXPECT_EQ(got[0].correct, ref.correct);
}

}  // namespace
}  // namespace seqcnn::testing

#else  // built without CUDA

TEST(CudaLossOptimEdges, SkipsWithoutCuda) { SEQCNN_REQUIRE_CUDA(); }

#endif
