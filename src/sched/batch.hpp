// One batch in the packed-rows-with-zero-halos layout ([rows][channels],
// one row per position):
//   [halo zeros | seq a | gap | seq b | gap | ... | seq z | halo zeros | tail]
// Gaps are at least `halo` zero rows, so a 'same' convolution over all rows
// never mixes two sequences. The classic padded layout is the same thing with
// every sequence at a fixed stride.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "seqcnn/config.hpp"
#include "seqcnn/dataset.hpp"

namespace seqcnn {

struct SequenceSlot {
  int64_t start_row = 0;
  int64_t length = 0;
  int32_t record = 0;  // index into the dataset
};

struct Batch {
  int64_t rows = 0;  // including halos, gaps and tail
  int halo = 0;
  std::vector<int32_t> tokens;       // [rows]; pad id in gaps
  std::vector<int32_t> labels;       // [rows]; kIgnoreLabel in gaps and at unlabelled residues
  std::vector<uint8_t> row_is_real;  // [rows]; 1 where the row holds a residue
  std::vector<SequenceSlot> sequences;

  int64_t real_rows() const;
  int64_t counted_labels() const;  // rows whose label enters the loss
};

// Lays out `records` (dataset indices, in order). Packed: one shared gap of
// `halo` rows between neighbours. Padded: every sequence starts at a stride
// of (longest + halo). The buffer is extended with zero rows to `min_rows`
// (a fixed row budget). Token ids are checked against the vocabulary size
// here, before any kernel runs (InputError naming record, position, id).
Batch make_batch(const Dataset& data, std::span<const int32_t> records, int halo, BatchLayout layout,
                 int vocab_size, int64_t min_rows = 0);

// Rows the layout needs for these lengths.
int64_t rows_needed(std::span<const int64_t> lengths, int halo, BatchLayout layout);

}  // namespace seqcnn
