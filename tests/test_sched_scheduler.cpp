// The epoch plan: seeded and reproducible, every record exactly once, row
// budgets respected, length buckets, evaluation order; and the padding
// waste of the bundled training data under the packed and padded layouts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "sched/batch.hpp"
#include "sched/permutation.hpp"
#include "sched/scheduler.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;

// n records with lengths cycling through a spread of values.
Dataset synthetic(int n) {
  Dataset d;
  d.source = "synthetic";
  for (int i = 0; i < n; ++i) {
    const int length = 1 + (i * 37) % 120;
    d.records.push_back(Record{"r" + std::to_string(i), std::vector<int32_t>(static_cast<size_t>(length), 1), {}});
  }
  return d;
}

BatchConfig by_count(int sequences, int buckets = 1, BatchLayout layout = BatchLayout::Packed) {
  BatchConfig c;
  c.layout = layout;
  c.batch_sequences = sequences;
  c.batch_rows = 0;
  c.buckets = buckets;
  return c;
}

BatchConfig by_rows(int64_t rows, int buckets = 1, BatchLayout layout = BatchLayout::Packed) {
  BatchConfig c = by_count(0, buckets, layout);
  c.batch_rows = rows;
  return c;
}

std::vector<int64_t> lengths_of(const Dataset& d, const std::vector<int32_t>& batch) {
  std::vector<int64_t> out;
  for (int32_t r : batch) out.push_back(d.records[static_cast<size_t>(r)].length());
  return out;
}

void expect_each_record_once(const EpochPlan& plan, const Dataset& d) {
  std::vector<int> seen(d.records.size(), 0);
  int64_t residues = 0;
  for (const auto& batch : plan.batches) {
    EXPECT_FALSE(batch.empty());
    for (int32_t r : batch) {
      ASSERT_GE(r, 0);
      ASSERT_LT(static_cast<size_t>(r), d.records.size());
      ++seen[static_cast<size_t>(r)];
      residues += d.records[static_cast<size_t>(r)].length();
    }
  }
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << "record " << i;
  EXPECT_EQ(plan.real_rows, residues);
}

TEST(SeededPermutation, IsAPermutationAndAPureFunctionOfItsKey) {
  const auto p = sched::seeded_permutation(1000, {7, 3, 0});
  std::vector<int32_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int32_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_EQ(p, sched::seeded_permutation(1000, {7, 3, 0}));
  EXPECT_NE(p, sched::seeded_permutation(1000, {7, 4, 0}));
  EXPECT_NE(p, sched::seeded_permutation(1000, {8, 3, 0}));
  EXPECT_NE(p, sched::seeded_permutation(1000, {7, 3, 1}));
}

TEST(SeededPermutation, AllOrdersOfThreeAreEquallyLikely) {
  std::map<std::vector<int32_t>, int> counts;
  const int draws = 6000;
  for (int seed = 0; seed < draws; ++seed) ++counts[sched::seeded_permutation(3, {static_cast<uint64_t>(seed), 0, 0})];
  ASSERT_EQ(counts.size(), 6u);
  // Expected 1000 each; the standard deviation is about 29.
  for (const auto& [order, n] : counts) EXPECT_NEAR(n, 1000, 150);
}

TEST(SeededPermutation, ScaleToBoundIsExact) {
  EXPECT_EQ(sched::scale_to_bound(0, 7), 0u);
  EXPECT_EQ(sched::scale_to_bound(~uint64_t{0}, 7), 6u);
  EXPECT_EQ(sched::scale_to_bound(uint64_t{1} << 63, 10), 5u);
  EXPECT_EQ(sched::scale_to_bound(~uint64_t{0}, 0xFFFFFFFFu), 0xFFFFFFFEu);
}

TEST(PlanEpoch, SameSeedAndEpochGiveTheSamePlan) {
  const Dataset d = synthetic(200);
  for (const BatchConfig& c : {by_count(16), by_count(16, 4), by_rows(600), by_rows(600, 3, BatchLayout::Padded)}) {
    const EpochPlan a = plan_epoch(d, c, 2, 42, 5);
    const EpochPlan b = plan_epoch(d, c, 2, 42, 5);
    EXPECT_EQ(a.batches, b.batches);
    EXPECT_EQ(a.computed_rows, b.computed_rows);
    EXPECT_NE(a.batches, plan_epoch(d, c, 2, 42, 6).batches);
    EXPECT_NE(a.batches, plan_epoch(d, c, 2, 43, 5).batches);
  }
}

TEST(PlanEpoch, EveryRecordExactlyOncePerEpoch) {
  const Dataset d = synthetic(257);
  for (const BatchConfig& c : {by_count(16), by_count(1), by_count(300), by_count(10, 7, BatchLayout::Padded), by_rows(500),
                               by_rows(125, 1, BatchLayout::Padded), by_rows(700, 5)}) {
    for (int epoch = 0; epoch < 3; ++epoch) expect_each_record_once(plan_epoch(d, c, 1, 9, epoch), d);
    expect_each_record_once(plan_epoch(d, c, 1, 9, 0, /*shuffle=*/false), d);
  }
}

TEST(PlanEpoch, SequenceCountBatchesAndTheirRows) {
  const Dataset d = synthetic(50);
  const EpochPlan plan = plan_epoch(d, by_count(16, 1, BatchLayout::Padded), 2, 1, 0);
  ASSERT_EQ(plan.batches.size(), 4u);
  int64_t computed = 0;
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(plan.batches[i].size(), 16u);
  EXPECT_EQ(plan.batches[3].size(), 2u);
  for (const auto& b : plan.batches) computed += rows_needed(lengths_of(d, b), 2, BatchLayout::Padded);
  EXPECT_EQ(plan.computed_rows, computed);
  EXPECT_EQ(plan.real_rows, d.positions());
}

TEST(PlanEpoch, WithoutShuffleKeepsDatasetOrder) {
  const Dataset d = synthetic(10);
  const EpochPlan plan = plan_epoch(d, by_count(4), 1, 1, 3, false);
  EXPECT_EQ(plan.batches, (std::vector<std::vector<int32_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}));
}

TEST(PlanEpoch, RowBudgetIsRespectedAndFullyComputed) {
  const Dataset d = synthetic(300);
  for (BatchLayout layout : {BatchLayout::Packed, BatchLayout::Padded}) {
    for (int halo : {0, 1, 4}) {
      const EpochPlan plan = plan_epoch(d, by_rows(640, 1, layout), halo, 3, 0);
      for (const auto& b : plan.batches) {
        EXPECT_LE(rows_needed(lengths_of(d, b), halo, layout), 640);
        // make_batch fills the fixed buffer exactly.
        EXPECT_EQ(make_batch(d, b, halo, layout, 2, 640).rows, 640);
      }
      EXPECT_EQ(plan.computed_rows, 640 * static_cast<int64_t>(plan.batches.size()));
    }
  }
}

TEST(PlanEpoch, RecordLongerThanTheBudgetIsAConfigError) {
  Dataset d = synthetic(20);
  d.records[7].tokens.assign(1000, 1);
  const std::string m = message_of<ConfigError>([&] { plan_epoch(d, by_rows(1001), 1, 1, 0); });
  expect_mentions(m, {"record #7 'r7'", "1000 positions", "at least 1002"});
  EXPECT_NO_THROW(plan_epoch(d, by_rows(1002), 1, 1, 0));
}

TEST(PlanEpoch, BadBatchSettingsAreConfigErrors) {
  const Dataset d = synthetic(5);
  BatchConfig both = by_count(4);
  both.batch_rows = 100;
  EXPECT_THROW(plan_epoch(d, both, 1, 1, 0), ConfigError);
  EXPECT_THROW(plan_epoch(d, by_count(0), 1, 1, 0), ConfigError);
  EXPECT_THROW(plan_epoch(d, by_count(4, 0), 1, 1, 0), ConfigError);
  EXPECT_THROW(plan_epoch(d, by_count(4), -1, 1, 0), ConfigError);
  EXPECT_THROW(plan_epoch(Dataset{}, by_count(4), 1, 1, 0), InputError);
}

TEST(PlanEpoch, BucketsBatchSimilarLengthsTogether) {
  const Dataset d = synthetic(240);
  std::vector<int64_t> sorted;
  for (const auto& r : d.records) sorted.push_back(r.length());
  std::sort(sorted.begin(), sorted.end());
  // 8 buckets of 30 records, batches of 10: each batch lies inside one bucket's length range.
  const EpochPlan plan = plan_epoch(d, by_count(10, 8), 1, 5, 0);
  ASSERT_EQ(plan.batches.size(), 24u);
  for (const auto& b : plan.batches) {
    const auto lengths = lengths_of(d, b);
    const int64_t lo = *std::min_element(lengths.begin(), lengths.end());
    const int64_t hi = *std::max_element(lengths.begin(), lengths.end());
    bool inside_a_bucket = false;
    for (size_t k = 0; k < 8; ++k) inside_a_bucket |= lo >= sorted[k * 30] && hi <= sorted[k * 30 + 29];
    EXPECT_TRUE(inside_a_bucket) << lo << ".." << hi;
  }
  // The batch order is shuffled, not bucket after bucket.
  const bool ascending = std::is_sorted(plan.batches.begin(), plan.batches.end(), [&](const auto& a, const auto& b) {
    return lengths_of(d, a).front() < lengths_of(d, b).front();
  });
  EXPECT_FALSE(ascending);
  // Padding waste of padded batches drops with buckets.
  const double plain = plan_epoch(d, by_count(10, 1, BatchLayout::Padded), 1, 5, 0).padding_waste();
  const double bucketed = plan_epoch(d, by_count(10, 8, BatchLayout::Padded), 1, 5, 0).padding_waste();
  EXPECT_LT(bucketed, plain);
}

TEST(PlanEval, DatasetOrderGreedilyPacked) {
  Dataset d = synthetic(6);  // lengths 1, 38, 75, 112, 29, 66
  d.records[3].tokens.assign(300, 1);  // longer than the budget: a batch of its own
  const EpochPlan plan = plan_eval(d, 120, 1);
  // 1+38+75 + 4 gaps = 118 <= 120; then 300 alone; then 29+66 + 3 = 98.
  EXPECT_EQ(plan.batches, (std::vector<std::vector<int32_t>>{{0, 1, 2}, {3}, {4, 5}}));
  EXPECT_EQ(plan.real_rows, d.positions());
  EXPECT_EQ(plan.computed_rows, 120 + 302 + 120);
  EXPECT_THROW(plan_eval(d, 0, 1), ConfigError);
}

// The bundled training split (387 records, 91,139 residues): packed batches
// of a fixed 8192-row budget with halo 1, against the classic padded layout
// with random batches of 32. A fixed budget computes all of every buffer, so
// the last, partly filled batch of an epoch sets a floor on the waste:
// 1 - residues / (minimum batch count * budget).
TEST(PaddingWaste, BundledTrainingDataPackedVersusPadded) {
  const std::string path = std::string(SEQCNN_SOURCE_DIR) + "/data/ss/train.ss3.txt";
  const auto raw = read_raw(path, InputFormat::ThreeLine);
  const Dataset d = to_dataset(raw, Vocabulary::protein(), LabelSet({"C", "E", "H"}, "-"), path);
  const int halo = 1;
  const int64_t budget = 8192;

  const EpochPlan packed = plan_epoch(d, by_rows(budget), halo, 1, 0);
  expect_each_record_once(packed, d);
  int64_t needed = 0;  // rows the batches need, tails excluded
  for (const auto& b : packed.batches) needed += rows_needed(lengths_of(d, b), halo, BatchLayout::Packed);
  // Fewest possible batches: every batch holds at most budget - halo rows of
  // sequence-plus-gap, so at least ceil((residues + records*halo) / (budget - halo)).
  const int64_t content = d.positions() + static_cast<int64_t>(d.records.size()) * halo;
  const int64_t fewest = (content + budget - halo - 1) / (budget - halo);
  const double floor_waste = 1.0 - static_cast<double>(d.positions()) / static_cast<double>(fewest * budget);
  const double waste_without_tails = 1.0 - static_cast<double>(d.positions()) / static_cast<double>(needed);

  const EpochPlan padded32 = plan_epoch(d, by_count(32, 1, BatchLayout::Padded), halo, 1, 0);
  const EpochPlan packed32 = plan_epoch(d, by_count(32, 1, BatchLayout::Packed), halo, 1, 0);
  const EpochPlan padded32_buckets = plan_epoch(d, by_count(32, 8, BatchLayout::Padded), halo, 1, 0);

  std::printf("  train.ss3: %zu records, %lld residues\n", d.records.size(), static_cast<long long>(d.positions()));
  std::printf("  packed, 8192-row budget: %zu batches (fewest possible %lld), computed %lld rows, waste %.2f%% "
              "(floor %.2f%%); rows needed without tails %lld, waste %.2f%%\n",
              packed.batches.size(), static_cast<long long>(fewest), static_cast<long long>(packed.computed_rows),
              100 * packed.padding_waste(), 100 * floor_waste, static_cast<long long>(needed), 100 * waste_without_tails);
  std::printf("  padded, random batches of 32: %zu batches, computed %lld rows, waste %.2f%%\n", padded32.batches.size(),
              static_cast<long long>(padded32.computed_rows), 100 * padded32.padding_waste());
  std::printf("  padded, batches of 32 in 8 length buckets: waste %.2f%%\n", 100 * padded32_buckets.padding_waste());
  std::printf("  packed, batches of 32: waste %.2f%%\n", 100 * packed32.padding_waste());

  EXPECT_EQ(static_cast<int64_t>(packed.batches.size()), fewest);
  for (int epoch = 1; epoch < 5; ++epoch)
    EXPECT_EQ(static_cast<int64_t>(plan_epoch(d, by_rows(budget), halo, 1, epoch).batches.size()), fewest);
  EXPECT_NEAR(packed.padding_waste(), floor_waste, 1e-12);
  EXPECT_LT(waste_without_tails, 0.05);  // the halos alone
  EXPECT_LT(packed32.padding_waste(), 0.05);
  EXPECT_GT(padded32.padding_waste(), 4 * packed.padding_waste());
}

}  // namespace
}  // namespace seqcnn
