// Batch layout: packed rows with zero halos, the padded layout, the row
// budget tail, and token-id validation before anything is built (BR-12).
#include <gtest/gtest.h>

#include "sched/batch.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;

// Records a (3 residues), b (1), c (2); tokens are 10*record + position + 1
// so every row is recognisable; b is unlabelled, c has an unknown label.
Dataset three_records() {
  Dataset d;
  d.source = "toy";
  d.records.push_back(Record{"a", {1, 2, 3}, {0, 1, 2}});
  d.records.push_back(Record{"b", {11}, {}});
  d.records.push_back(Record{"c", {21, 22}, {1, kIgnoreLabel}});
  return d;
}
constexpr int kVocab = 30;

// Rows not inside any sequence slot hold pad / ignore / not-real.
void expect_gaps_are_empty(const Batch& b) {
  std::vector<bool> inside(static_cast<size_t>(b.rows), false);
  for (const SequenceSlot& s : b.sequences)
    for (int64_t t = 0; t < s.length; ++t) inside[static_cast<size_t>(s.start_row + t)] = true;
  for (size_t row = 0; row < inside.size(); ++row) {
    if (inside[row]) continue;
    EXPECT_EQ(b.tokens[row], 0) << "row " << row;
    EXPECT_EQ(b.labels[row], kIgnoreLabel) << "row " << row;
    EXPECT_EQ(b.row_is_real[row], 0) << "row " << row;
  }
}

// The rows of each slot hold that record's tokens and labels.
void expect_slots_hold_records(const Batch& b, const Dataset& d) {
  for (const SequenceSlot& s : b.sequences) {
    const Record& r = d.records[static_cast<size_t>(s.record)];
    ASSERT_EQ(s.length, r.length());
    for (int64_t t = 0; t < s.length; ++t) {
      const auto row = static_cast<size_t>(s.start_row + t);
      EXPECT_EQ(b.tokens[row], r.tokens[static_cast<size_t>(t)]);
      EXPECT_EQ(b.labels[row], r.labels.empty() ? kIgnoreLabel : r.labels[static_cast<size_t>(t)]);
      EXPECT_EQ(b.row_is_real[row], 1);
    }
  }
}

// At least `halo` non-real rows before the first residue, between any two
// sequences, and after the last one.
void expect_halo_gaps(const Batch& b) {
  int64_t previous_end = 0;
  for (const SequenceSlot& s : b.sequences) {
    EXPECT_GE(s.start_row - previous_end, b.halo);
    previous_end = s.start_row + s.length;
  }
  EXPECT_GE(b.rows - previous_end, b.halo);
}

TEST(PackedBatch, SequencesShareOneHaloGap) {
  const Dataset d = three_records();
  const std::vector<int32_t> order{0, 1, 2};
  const Batch b = make_batch(d, order, 2, BatchLayout::Packed, kVocab);
  // [2 zeros | a a a | 2 | b | 2 | c c | 2]
  EXPECT_EQ(b.rows, 2 + 3 + 2 + 1 + 2 + 2 + 2);
  EXPECT_EQ(b.halo, 2);
  ASSERT_EQ(b.sequences.size(), 3u);
  EXPECT_EQ(b.sequences[0].start_row, 2);
  EXPECT_EQ(b.sequences[1].start_row, 7);
  EXPECT_EQ(b.sequences[2].start_row, 10);
  EXPECT_EQ(b.sequences[2].record, 2);
  expect_slots_hold_records(b, d);
  expect_gaps_are_empty(b);
  expect_halo_gaps(b);
  EXPECT_EQ(b.real_rows(), 6);
  EXPECT_EQ(b.counted_labels(), 4);  // a: 3, b: unlabelled, c: one unknown
  const std::vector<int64_t> lengths{3, 1, 2};
  EXPECT_EQ(rows_needed(lengths, 2, BatchLayout::Packed), b.rows);
}

TEST(PackedBatch, LayoutFollowsTheGivenOrder) {
  const Dataset d = three_records();
  const std::vector<int32_t> order{2, 0};
  const Batch b = make_batch(d, order, 1, BatchLayout::Packed, kVocab);
  EXPECT_EQ(b.rows, 1 + 2 + 1 + 3 + 1);
  EXPECT_EQ(b.sequences[0].record, 2);
  EXPECT_EQ(b.sequences[1].start_row, 4);
  expect_slots_hold_records(b, d);
  expect_gaps_are_empty(b);
}

TEST(PaddedBatch, EverySequenceStartsAtTheLongestPlusHaloStride) {
  const Dataset d = three_records();
  const std::vector<int32_t> order{1, 0, 2};
  const Batch b = make_batch(d, order, 1, BatchLayout::Padded, kVocab);
  // Lmax = 3, stride 4: starts 1, 5, 9; rows = 1 + 3 * 4.
  EXPECT_EQ(b.rows, 13);
  for (size_t j = 0; j < 3; ++j) EXPECT_EQ(b.sequences[j].start_row, 1 + static_cast<int64_t>(j) * 4);
  expect_slots_hold_records(b, d);
  expect_gaps_are_empty(b);
  expect_halo_gaps(b);
  const std::vector<int64_t> lengths{1, 3, 2};
  EXPECT_EQ(rows_needed(lengths, 1, BatchLayout::Padded), 13);
}

TEST(Batch, MinRowsAddsAnEmptyTail) {
  const Dataset d = three_records();
  const std::vector<int32_t> order{0, 2};
  for (BatchLayout layout : {BatchLayout::Packed, BatchLayout::Padded}) {
    const std::vector<int64_t> lengths{3, 2};
    const int64_t needed = rows_needed(lengths, 1, layout);
    const Batch b = make_batch(d, order, 1, layout, kVocab, 20);
    EXPECT_EQ(b.rows, 20);
    ASSERT_EQ(b.tokens.size(), 20u);
    ASSERT_EQ(b.labels.size(), 20u);
    ASSERT_EQ(b.row_is_real.size(), 20u);
    expect_slots_hold_records(b, d);
    expect_gaps_are_empty(b);
    EXPECT_EQ(make_batch(d, order, 1, layout, kVocab, needed).rows, needed);
    expect_mentions(message_of<ConfigError>([&] { make_batch(d, order, 1, layout, kVocab, needed - 1); }),
                    {"needs " + std::to_string(needed) + " rows", "budget is " + std::to_string(needed - 1)});
  }
}

TEST(Batch, LengthOneSequenceSitsBetweenHalos) {
  const Dataset d = three_records();
  const std::vector<int32_t> order{1};
  for (BatchLayout layout : {BatchLayout::Packed, BatchLayout::Padded}) {
    const Batch b = make_batch(d, order, 3, layout, kVocab);
    EXPECT_EQ(b.rows, 7);
    EXPECT_EQ(b.sequences[0].start_row, 3);
    EXPECT_EQ(b.tokens[3], 11);
    EXPECT_EQ(b.real_rows(), 1);
    EXPECT_EQ(b.counted_labels(), 0);
    expect_gaps_are_empty(b);
  }
}

TEST(Batch, ZeroHaloPacksSequencesBackToBack) {
  const Dataset d = three_records();
  const std::vector<int32_t> order{0, 1, 2};
  const Batch b = make_batch(d, order, 0, BatchLayout::Packed, kVocab);
  EXPECT_EQ(b.rows, 6);
  EXPECT_EQ(b.tokens, (std::vector<int32_t>{1, 2, 3, 11, 21, 22}));
}

// BR-12: V = 5; ids in [0, 5) are legal, 5, -1 and -100 are errors naming
// the record, the position, the id and V; nothing is clamped.
TEST(Batch, OutOfRangeTokenIdsAreRejectedBeforeBuilding) {
  Dataset d;
  d.source = "ids";
  d.records.push_back(Record{"A", {1, 4, 0}, {}});
  d.records.push_back(Record{"B", {2, 0, 0}, {}});
  const std::vector<int32_t> order{0, 1};
  const Batch ok = make_batch(d, order, 1, BatchLayout::Padded, 5);
  EXPECT_EQ(ok.tokens[2], 4);  // the boundary id V-1 is kept as is

  for (int32_t bad : {5, -1, -100}) {
    d.records[1].tokens[0] = bad;
    const std::string m = message_of<InputError>([&] { make_batch(d, order, 1, BatchLayout::Padded, 5); });
    expect_mentions(m, {"record #1 'B'", "batch sequence 1", "position 1", "token id " + std::to_string(bad),
                        "vocabulary size 5"});
  }
  d.records[1].tokens = {2, 0, 7};
  expect_mentions(message_of<InputError>([&] { make_batch(d, order, 1, BatchLayout::Packed, 5); }),
                  {"record #1 'B'", "position 3", "token id 7"});
}

TEST(Batch, BadRecordIndexOrLabelIsAnError) {
  Dataset d = three_records();
  const std::vector<int32_t> missing{0, 3};
  expect_mentions(message_of<InputError>([&] { make_batch(d, missing, 1, BatchLayout::Packed, kVocab); }),
                  {"record #3", "3 records"});
  d.records[0].labels[1] = -100;
  const std::vector<int32_t> order{0};
  expect_mentions(message_of<InputError>([&] { make_batch(d, order, 1, BatchLayout::Packed, kVocab); }),
                  {"record #0 'a'", "position 2", "label -100"});
  EXPECT_THROW(make_batch(d, std::vector<int32_t>{}, 1, BatchLayout::Packed, kVocab), ConfigError);
}

}  // namespace
}  // namespace seqcnn
