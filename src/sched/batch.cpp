#include "sched/batch.hpp"

#include <algorithm>
#include <string>

#include "seqcnn/errors.hpp"

namespace seqcnn {

namespace {

constexpr int32_t kPadId = 0;  // Vocabulary::pad_id()

std::string record_name(const Dataset& data, int32_t index, size_t slot) {
  return data.source + ": record #" + std::to_string(index) + " '" + data.records[static_cast<size_t>(index)].id +
         "' (batch sequence " + std::to_string(slot) + ")";
}

// Every id and label is checked before anything is laid out, so a bad batch
// leaves nothing half-built and no kernel ever sees an out-of-range id.
void check_records(const Dataset& data, std::span<const int32_t> records, int vocab_size) {
  for (size_t slot = 0; slot < records.size(); ++slot) {
    const int32_t index = records[slot];
    if (index < 0 || static_cast<size_t>(index) >= data.records.size()) {
      throw InputError(data.source + ": batch sequence " + std::to_string(slot) + " refers to record #" +
                       std::to_string(index) + ", but the dataset has " + std::to_string(data.records.size()) +
                       " records");
    }
    const Record& r = data.records[static_cast<size_t>(index)];
    for (size_t t = 0; t < r.tokens.size(); ++t) {
      const int32_t id = r.tokens[t];
      if (id < 0 || id >= vocab_size) {
        throw InputError(record_name(data, index, slot) + ", position " + std::to_string(t + 1) + ": token id " +
                         std::to_string(id) + " is outside [0, " + std::to_string(vocab_size) +
                         ") for vocabulary size " + std::to_string(vocab_size));
      }
    }
    if (!r.labels.empty() && r.labels.size() != r.tokens.size()) {
      throw InputError(record_name(data, index, slot) + ": " + std::to_string(r.tokens.size()) + " tokens but " +
                       std::to_string(r.labels.size()) + " labels");
    }
    for (size_t t = 0; t < r.labels.size(); ++t) {
      if (r.labels[t] < kIgnoreLabel) {
        throw InputError(record_name(data, index, slot) + ", position " + std::to_string(t + 1) + ": label " +
                         std::to_string(r.labels[t]) + " is neither a class id nor the ignore label " +
                         std::to_string(kIgnoreLabel));
      }
    }
  }
}

}  // namespace

int64_t Batch::real_rows() const {
  int64_t n = 0;
  for (uint8_t real : row_is_real) n += real;
  return n;
}

int64_t Batch::counted_labels() const {
  int64_t n = 0;
  for (int32_t label : labels) n += label != kIgnoreLabel ? 1 : 0;
  return n;
}

int64_t rows_needed(std::span<const int64_t> lengths, int halo, BatchLayout layout) {
  if (halo < 0) throw ConfigError("halo must be >= 0, got " + std::to_string(halo));
  if (lengths.empty()) return 0;
  int64_t total = 0, longest = 0;
  for (int64_t length : lengths) {
    if (length < 0) throw InputError("sequence length must be >= 0, got " + std::to_string(length));
    total += length;
    longest = std::max(longest, length);
  }
  const auto n = static_cast<int64_t>(lengths.size());
  // Leading halo, then each sequence followed by its gap (the last gap is the trailing halo).
  if (layout == BatchLayout::Packed) return halo + total + n * halo;
  return halo + n * (longest + halo);
}

Batch make_batch(const Dataset& data, std::span<const int32_t> records, int halo, BatchLayout layout, int vocab_size,
                 int64_t min_rows) {
  if (halo < 0) throw ConfigError("halo must be >= 0, got " + std::to_string(halo));
  if (vocab_size <= 0) throw ConfigError("vocabulary size must be > 0, got " + std::to_string(vocab_size));
  if (min_rows < 0) throw ConfigError("row budget must be >= 0, got " + std::to_string(min_rows));
  if (records.empty()) throw ConfigError(data.source + ": a batch needs at least one record");
  check_records(data, records, vocab_size);

  std::vector<int64_t> lengths;
  lengths.reserve(records.size());
  for (int32_t index : records) lengths.push_back(data.records[static_cast<size_t>(index)].length());
  const int64_t needed = rows_needed(lengths, halo, layout);
  if (min_rows > 0 && min_rows < needed) {
    throw ConfigError(data.source + ": the batch needs " + std::to_string(needed) + " rows (" +
                      std::to_string(records.size()) + " sequences, halo " + std::to_string(halo) +
                      ") but the row budget is " + std::to_string(min_rows));
  }

  Batch batch;
  batch.rows = std::max(needed, min_rows);
  batch.halo = halo;
  const auto rows = static_cast<size_t>(batch.rows);
  batch.tokens.assign(rows, kPadId);
  batch.labels.assign(rows, kIgnoreLabel);
  batch.row_is_real.assign(rows, 0);
  batch.sequences.reserve(records.size());

  const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  int64_t start = halo;
  for (size_t j = 0; j < records.size(); ++j) {
    const Record& r = data.records[static_cast<size_t>(records[j])];
    const int64_t length = lengths[j];
    batch.sequences.push_back(SequenceSlot{start, length, records[j]});
    const auto first = static_cast<size_t>(start);
    std::copy(r.tokens.begin(), r.tokens.end(), batch.tokens.begin() + static_cast<std::ptrdiff_t>(first));
    if (!r.labels.empty())
      std::copy(r.labels.begin(), r.labels.end(), batch.labels.begin() + static_cast<std::ptrdiff_t>(first));
    std::fill_n(batch.row_is_real.begin() + static_cast<std::ptrdiff_t>(first), length, uint8_t{1});
    start += (layout == BatchLayout::Packed ? length : longest) + halo;
  }
  return batch;
}

}  // namespace seqcnn
