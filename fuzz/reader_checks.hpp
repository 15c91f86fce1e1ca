// What every text reader promises about the records it returns, checked on
// each accepted fuzz input, and the rest of the path records take into a
// run (length limit, label set, vocabulary, ids).
#pragma once

#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "seqcnn/dataset.hpp"

namespace seqcnn::fuzz {

inline void check_raw_records(const std::vector<RawRecord>& records, bool labelled) {
  require(!records.empty(), "a reader returned no records without an error");
  for (const RawRecord& r : records) {
    require(!r.id.empty(), "a record without an id");
    require(!r.symbols.empty(), "a record without symbols");
    require(r.line >= 1, "a record without its line number");
    if (labelled) require(r.labels.size() == r.symbols.size(), "labels and symbols differ in count");
    else require(r.labels.empty(), "an unlabelled format returned labels");
    for (const std::string& s : r.symbols) require(!s.empty(), "an empty symbol");
  }
}

// Crops to a small limit, builds the label set and vocabulary as a run
// would, maps the records and checks every id is in range.
inline void check_mapped(std::vector<RawRecord> records, const Vocabulary& vocab, bool labelled) {
  apply_length_limit(records, 7, TooLong::Crop, "fuzz");
  for (const RawRecord& r : records) require(r.symbols.size() <= 7 && r.labels.size() <= 7, "crop left a record too long");
  LabelSet labels({"C", "E", "H"}, "-");
  if (labelled) {
    std::vector<std::string> seen;
    for (const RawRecord& r : records) seen.insert(seen.end(), r.labels.begin(), r.labels.end());
    labels = LabelSet::from_seen(seen, "", "-");
  } else {
    for (RawRecord& r : records) r.labels.clear();
  }
  const Dataset data = to_dataset(records, vocab, labels, "fuzz");
  require(data.records.size() == records.size(), "to_dataset dropped or added records");
  for (const Record& r : data.records) {
    for (int32_t t : r.tokens) require(t >= 1 && t < vocab.size(), "a token id outside [1, V)");
    for (int32_t l : r.labels) require(l == kIgnoreLabel || (l >= 0 && l < labels.size()), "a label id outside the set");
  }
}

}  // namespace seqcnn::fuzz
