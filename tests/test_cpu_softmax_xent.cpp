// Masked softmax cross-entropy with the reduction carried by row_scale:
// the masking-and-loss cases BR-01, BR-02, BR-03, BR-07, BR-10 and BR-16 at
// op level, with their expected numbers.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/softmax_xent.hpp"
#include "grad_check.hpp"
#include "xent_fixture.hpp"

namespace seqcnn {
namespace {

using testing::expect_row_six_digits;
using testing::row_of;
using testing::six_digits;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct XentRun {
  cpu::XentTotals totals;
  std::vector<double> dlogits;
};

// dlogits start as NaN so a row the op forgets to write shows up.
XentRun run_xent(const std::vector<double>& logits, const std::vector<int32_t>& labels,
                 const std::vector<double>& row_scale, const std::vector<double>& class_weights = {},
                 double smoothing = 0.0, int classes = testing::kFixtureClasses) {
  XentRun run;
  run.dlogits.assign(logits.size(), kNaN);
  run.totals = cpu::softmax_xent<double>(static_cast<int64_t>(labels.size()), classes, logits.data(), labels.data(),
                                         row_scale.data(), class_weights.empty() ? nullptr : class_weights.data(),
                                         smoothing, run.dlogits.data());
  return run;
}

bool all_finite(const std::vector<double>& v) {
  for (double x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

// Token mean of fixture F: every row scaled by 1 / (4 counted labels).
const std::vector<double> kTokenMeanScale = {0.25, 0.25, 0.25, 0.25, 0.25, 0.25};

TEST(CpuSoftmaxXent, BR01_AllLabelsMaskedGivesZeroLossAndZeroGradients) {
  std::vector<int32_t> labels(6, kIgnoreLabel);
  // The host has no weight to divide by; whatever it passes, masked rows are skipped.
  for (const double scale : {0.0, kInf, kNaN}) {
    const XentRun run = run_xent(testing::fixture_logits(), labels, std::vector<double>(6, scale));
    EXPECT_EQ(run.totals.loss, 0.0);
    EXPECT_EQ(run.totals.counted, 0);
    EXPECT_EQ(run.totals.correct, 0);
    EXPECT_EQ(run.dlogits, std::vector<double>(18, 0.0));
  }
  // Two length-0 sequences: a batch of gap rows only.
  const XentRun empty = run_xent(std::vector<double>(12, 1.0), std::vector<int32_t>(4, kIgnoreLabel),
                                 std::vector<double>(4, 0.0));
  EXPECT_EQ(empty.totals.loss, 0.0);
  EXPECT_EQ(empty.totals.counted, 0);
  EXPECT_EQ(empty.dlogits, std::vector<double>(12, 0.0));
}

TEST(CpuSoftmaxXent, BR02_TokenMeanDividesByValidCountOfTheWholeBatch) {
  const XentRun run = run_xent(testing::fixture_logits(), testing::fixture_labels(), kTokenMeanScale);
  EXPECT_TRUE(six_digits(run.totals.loss, 0.768184));  // not 0.512123 (/B*T), 1.31466 (per sequence), 1.19078
  EXPECT_EQ(run.totals.counted, 4);
  EXPECT_EQ(run.totals.correct, 3);  // B0's argmax is class 2
  expect_row_six_digits(row_of(run.dlogits, 3), {-0.227492, 0.0611821, 0.166310});
  expect_row_six_digits(row_of(run.dlogits, 0), {-0.0852497, 0.0606082, 0.0246415});
  EXPECT_EQ(row_of(run.dlogits, 4), std::vector<double>(3, 0.0));
  EXPECT_EQ(row_of(run.dlogits, 5), std::vector<double>(3, 0.0));
  std::printf("BR-02 token mean %.6f, dlogits B0 [%.6g %.6g %.6g]\n", run.totals.loss, run.dlogits[9],
              run.dlogits[10], run.dlogits[11]);
}

TEST(CpuSoftmaxXent, BR02_SumAndSequenceMeanAreRowScalesToo) {
  const XentRun sum = run_xent(testing::fixture_logits(), testing::fixture_labels(), std::vector<double>(6, 1.0));
  EXPECT_TRUE(six_digits(sum.totals.loss, 3.07274));
  // Sequence mean: s_r = 1 / (2 sequences * counted labels of r's sequence).
  const XentRun seq = run_xent(testing::fixture_logits(), testing::fixture_labels(),
                               {1.0 / 6, 1.0 / 6, 1.0 / 6, 0.5, 0.5, 0.5});
  EXPECT_TRUE(six_digits(seq.totals.loss, 1.31466));
}

TEST(CpuSoftmaxXent, BR02_UniformPredictionGivesLn26WhateverTheValidLengths) {
  const int classes = 26;
  const std::vector<int64_t> lengths = {1, 10, 100};  // padded to 100
  std::vector<int32_t> labels;
  for (int64_t n : lengths)
    for (int64_t t = 0; t < 100; ++t) labels.push_back(t < n ? static_cast<int32_t>(t % classes) : kIgnoreLabel);
  const std::vector<double> logits(labels.size() * classes, 0.5);
  const XentRun run = run_xent(logits, labels, std::vector<double>(labels.size(), 1.0 / 111.0), {}, 0.0, classes);
  EXPECT_TRUE(six_digits(run.totals.loss, 3.25810));
  EXPECT_EQ(run.totals.counted, 111);
}

TEST(CpuSoftmaxXent, BR03_MicroBatchesScaledByTheStepsValidCountSumToTheFullBatch) {
  const std::vector<double> logits = testing::fixture_logits();
  const std::vector<int32_t> labels = testing::fixture_labels();
  const XentRun full = run_xent(logits, labels, kTokenMeanScale);
  // Micro-batch 1 = sequence A (3 valid), micro-batch 2 = sequence B (1 valid);
  // both scaled by 1/4, the valid count of the whole step.
  const std::vector<double> logits_a(logits.begin(), logits.begin() + 9), logits_b(logits.begin() + 9, logits.end());
  const XentRun a = run_xent(logits_a, {0, 1, 2}, {0.25, 0.25, 0.25});
  const XentRun b = run_xent(logits_b, {0, kIgnoreLabel, kIgnoreLabel}, {0.25, 0.25, 0.25});
  EXPECT_TRUE(six_digits(a.totals.loss, 0.166283));
  EXPECT_TRUE(six_digits(b.totals.loss, 0.601901));
  EXPECT_TRUE(six_digits(a.totals.loss + b.totals.loss, 0.768184));  // not 1.31466, the mean of the two means
  EXPECT_NEAR(a.totals.loss + b.totals.loss, full.totals.loss, 1e-15);
  expect_row_six_digits(row_of(b.dlogits, 0), {-0.227492, 0.0611821, 0.166310});
  expect_row_six_digits(row_of(a.dlogits, 0), {-0.0852497, 0.0606082, 0.0246415});
  // Rows are independent, so the accumulated gradient is the full batch's, bit for bit.
  std::vector<double> accumulated = a.dlogits;
  accumulated.insert(accumulated.end(), b.dlogits.begin(), b.dlogits.end());
  EXPECT_EQ(accumulated, full.dlogits);
}

TEST(CpuSoftmaxXent, BR03_TenAndHundredTokenMicroBatchesWeighEveryTokenOneOver110) {
  // Uniform logits over 2 classes: dlogits at the label = -0.5 * (per-token weight).
  for (const int64_t n : {10, 100}) {
    const std::vector<int32_t> labels(static_cast<size_t>(n), 0);
    const XentRun run = run_xent(std::vector<double>(static_cast<size_t>(2 * n), 0.0), labels,
                                 std::vector<double>(static_cast<size_t>(n), 1.0 / 110.0), {}, 0.0, 2);
    for (int64_t r = 0; r < n; ++r) EXPECT_TRUE(six_digits(-2.0 * run.dlogits[static_cast<size_t>(2 * r)], 0.00909091));
  }
}

TEST(CpuSoftmaxXent, BR07_WeightedMeanDividesBySumOfTargetWeights) {
  const std::vector<double> logits = {0.2, 0.3, 0.5, 0.5, 0.2, 0.3};
  const std::vector<double> weights = {2, 4, 6};
  const std::vector<double> logits0(logits.begin(), logits.begin() + 3), logits1(logits.begin() + 3, logits.end());
  EXPECT_TRUE(six_digits(run_xent(logits0, {2}, {1.0}, weights).totals.loss, 5.63899));
  EXPECT_TRUE(six_digits(run_xent(logits1, {1}, {1.0}, weights).totals.loss, 4.95932));
  EXPECT_TRUE(six_digits(run_xent(logits, {2, 1}, {1.0, 1.0}, weights).totals.loss, 10.5983));
  EXPECT_TRUE(six_digits(run_xent(logits, {2, 1}, {0.1, 0.1}, weights).totals.loss, 1.05983));  // 1 / (6 + 4)
}

TEST(CpuSoftmaxXent, BR07_FixtureWithClassWeightsSmoothingAndIgnoredPads) {
  const std::vector<double> weights = {1.0, 2.0, 0.5};
  const double counted_weight = 1.0 + 2.0 + 0.5 + 1.0;  // 4.5: the pads are in neither sum
  const std::vector<double> scale(6, 1.0 / counted_weight);
  const XentRun run = run_xent(testing::fixture_logits(), testing::fixture_labels(), scale, weights);
  EXPECT_TRUE(six_digits(run.totals.loss, 0.706323));  // not 0.794613 (/N_valid) or 0.488993
  expect_row_six_digits(row_of(run.dlogits, 3), {-0.202215, 0.0543841, 0.147831});
  EXPECT_EQ(row_of(run.dlogits, 4), std::vector<double>(3, 0.0));
  const XentRun smoothed = run_xent(testing::fixture_logits(), testing::fixture_labels(), scale, weights, 0.1);
  EXPECT_TRUE(six_digits(smoothed.totals.loss, 0.809428));
  std::printf("BR-07 weighted %.6f, smoothed %.6f, dlogits B0 [%.6g %.6g %.6g]\n", run.totals.loss,
              smoothed.totals.loss, run.dlogits[9], run.dlogits[10], run.dlogits[11]);
}

TEST(CpuSoftmaxXent, ZeroClassWeightTermsContributeNothingEvenAtMinusInfinity) {
  // Label 0 has weight 0 and logit -inf: 0 * inf would be NaN; the term is skipped.
  const XentRun run = run_xent({-kInf, 1.0, 2.0}, {0}, {1.0}, {0.0, 1.0, 1.0}, 0.1);
  EXPECT_TRUE(std::isfinite(run.totals.loss));
  EXPECT_TRUE(all_finite(run.dlogits));
  EXPECT_EQ(run.totals.counted, 1);
}

TEST(CpuSoftmaxXent, BR10_MinusInfinityLogitsInAValidRowGiveZeroGradientThere) {
  const XentRun run = run_xent({-kInf, 0.0, 0.0}, {1}, {1.0});
  EXPECT_TRUE(six_digits(run.totals.loss, 0.693147));
  EXPECT_EQ(run.dlogits, (std::vector<double>{0.0, -0.5, 0.5}));
}

TEST(CpuSoftmaxXent, BR10_MinusInfinityLogitsOnPadRowsLeakNothing) {
  std::vector<double> logits = testing::fixture_logits();
  for (size_t e = 12; e < 18; ++e) logits[e] = -kInf;  // B1, B2
  const XentRun run = run_xent(logits, testing::fixture_labels(), kTokenMeanScale);
  EXPECT_TRUE(six_digits(run.totals.loss, 0.768184));
  expect_row_six_digits(row_of(run.dlogits, 3), {-0.227492, 0.0611821, 0.166310});
  EXPECT_EQ(row_of(run.dlogits, 4), std::vector<double>(3, 0.0));
  EXPECT_EQ(row_of(run.dlogits, 5), std::vector<double>(3, 0.0));
  EXPECT_TRUE(all_finite(run.dlogits));
}

TEST(CpuSoftmaxXent, CountedLabelWithMinusInfinityLogitGivesInfiniteLossNotNaN) {
  for (const double smoothing : {0.0, 0.1}) {
    const XentRun partly = run_xent({-kInf, 0.0, 1.0}, {0}, {0.5}, {}, smoothing);
    EXPECT_EQ(partly.totals.loss, kInf) << "smoothing " << smoothing;
    const XentRun entirely = run_xent({-kInf, -kInf, -kInf}, {2}, {0.5}, {}, smoothing);
    EXPECT_EQ(entirely.totals.loss, kInf) << "smoothing " << smoothing;
    EXPECT_TRUE(all_finite(entirely.dlogits));
  }
}

TEST(CpuSoftmaxXent, HugeLogitsStayFinite) {
  const XentRun run = run_xent({1e300, -1e300, 0.0}, {0}, {1.0});
  EXPECT_EQ(run.totals.loss, 0.0);
  EXPECT_TRUE(all_finite(run.dlogits));
}

TEST(CpuSoftmaxXent, BR16_SequenceAndEmptySequenceGiveTheMeanOverTheRealOne) {
  const std::vector<double> logits = testing::fixture_logits();
  const std::vector<double> logits_a(logits.begin(), logits.begin() + 9);
  const XentRun run = run_xent(logits_a, {0, 1, 2}, {1.0 / 3, 1.0 / 3, 1.0 / 3});  // the empty one has no rows
  EXPECT_TRUE(six_digits(run.totals.loss, 0.221710));
  expect_row_six_digits(row_of(run.dlogits, 0), {-0.113666, 0.0808110, 0.0328553});
}

TEST(CpuSoftmaxXent, BR16_BatchOfOneSequenceOfLengthOne) {
  const XentRun run = run_xent({1.0, 2.0, 3.0}, {0}, {1.0});
  EXPECT_TRUE(six_digits(run.totals.loss, 2.40761));
  ASSERT_EQ(run.dlogits.size(), 3u);  // [1][1][3] stays three numbers
  expect_row_six_digits(run.dlogits, {-0.909969, 0.244728, 0.665241});
}

TEST(CpuSoftmaxXent, AccuracyUsesTheFirstArgmax) {
  EXPECT_EQ(run_xent({1.0, 1.0, 0.0}, {0}, {1.0}).totals.correct, 1);
  EXPECT_EQ(run_xent({1.0, 1.0, 0.0}, {1}, {1.0}).totals.correct, 0);
}

TEST(CpuSoftmaxXent, FloatMatchesDoubleOnTheFixture) {
  const std::vector<double> logits = testing::fixture_logits();
  const std::vector<float> logits_f(logits.begin(), logits.end());
  const std::vector<float> scale_f(6, 0.25f);
  std::vector<float> dlogits_f(18);
  const std::vector<int32_t> labels = testing::fixture_labels();
  const cpu::XentTotals totals = cpu::softmax_xent<float>(6, 3, logits_f.data(), labels.data(), scale_f.data(),
                                                          nullptr, 0.0f, dlogits_f.data());
  const XentRun reference = run_xent(logits, labels, kTokenMeanScale);
  EXPECT_NEAR(totals.loss, reference.totals.loss, 1e-6);
  EXPECT_LE(testing::normwise_relative_error(dlogits_f, reference.dlogits), 1e-6);
}

TEST(CpuSoftmaxXent, SoftmaxForwardGivesProbabilitiesWithExactZerosAtMinusInfinity) {
  const std::vector<double> logits = {1.0, 2.0, 3.0, -kInf, 0.0, 0.0};
  std::vector<double> p(6);
  cpu::softmax_forward<double>(2, 3, logits.data(), p.data());
  expect_row_six_digits(row_of(p, 0), {0.0900306, 0.244728, 0.665241});
  EXPECT_EQ(row_of(p, 1), (std::vector<double>{0.0, 0.5, 0.5}));
}

}  // namespace
}  // namespace seqcnn
