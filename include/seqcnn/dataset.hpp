// Sequences, their per-position labels, and the vocabularies that map
// symbols to ids. Readers validate everything up front and throw
// InputError naming the file, line, record and position.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "seqcnn/config.hpp"

namespace seqcnn {

// Label id of a position that does not count in the loss (padding, or a
// residue whose label is unknown).
inline constexpr int32_t kIgnoreLabel = -1;

// Input symbols -> token ids. Id 0 is the pad id (never a real input).
// Protein mode: a fixed, case-folded alphabet of the 20 amino acids plus X,
// and any other letter maps to X, so predict-time input never meets an
// untrained id. Token mode: built from training tokens with a minimum
// frequency, plus an unknown id.
class Vocabulary {
 public:
  enum class Kind { Protein, Token };

  // "<pad>", the 20 amino acids ACDEFGHIKLMNPQRSTVWY, then "X" (the unknown id).
  static Vocabulary protein();
  // "<pad>", "<unk>" (the unknown id), then the tokens seen at least
  // min_freq times, in order of first appearance (ConfigError if min_freq < 1).
  static Vocabulary from_tokens(const std::vector<std::string>& tokens_in_order, int min_freq);
  // Rebuilds a vocabulary stored in a checkpoint; CheckpointError if the
  // symbols are not a vocabulary of that kind.
  static Vocabulary from_symbols(Kind kind, std::vector<std::string> symbols);

  Kind kind() const { return kind_; }
  int size() const { return static_cast<int>(symbols_.size()); }
  int pad_id() const { return 0; }
  int unknown_id() const { return unknown_id_; }
  // The id of a symbol; unknown symbols map to unknown_id(). Never the pad
  // id: "<pad>" in the input is an unknown symbol.
  int32_t id(std::string_view symbol) const;
  // The id of one residue letter, case-folded in protein mode; InputError
  // if `letter` is not an ASCII letter.
  int32_t residue_id(char letter) const;
  const std::vector<std::string>& symbols() const { return symbols_; }
  bool operator==(const Vocabulary& other) const = default;

 private:
  struct SymbolHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Kind kind_ = Kind::Protein;
  std::vector<std::string> symbols_;  // index = id; [0] is "<pad>"
  int unknown_id_ = 0;
  // symbol -> id for token mode (derived from symbols_).
  std::unordered_map<std::string, int32_t, SymbolHash, std::equal_to<>> index_;
};

// Label symbols in class order, plus the no-label symbol (default "-").
class LabelSet {
 public:
  LabelSet() = default;
  // ConfigError for no symbols, an empty or duplicated symbol, or a
  // no-label symbol that is also a class.
  LabelSet(std::vector<std::string> symbols, std::string no_label);
  // Class order from `order` when given (comma-separated names if it holds
  // a comma, else one char per class), else the sorted symbols seen (the
  // no-label symbol excluded). Symbols seen but missing from `order` are
  // reported by to_dataset with their place in the file.
  static LabelSet from_seen(const std::vector<std::string>& seen, std::string_view order,
                            std::string no_label);

  int size() const { return static_cast<int>(symbols_.size()); }
  // Class id, kIgnoreLabel for the no-label symbol, -2 for a symbol outside the set.
  int32_t id(std::string_view symbol) const;
  const std::vector<std::string>& symbols() const { return symbols_; }
  const std::string& no_label() const { return no_label_; }
  bool operator==(const LabelSet& other) const = default;

 private:
  std::vector<std::string> symbols_;
  std::string no_label_ = "-";
};

struct Record {
  std::string id;               // header (3-line/FASTA) or "sentence N" (CoNLL)
  std::vector<int32_t> tokens;  // ids in [1, V)
  std::vector<int32_t> labels;  // class ids, kIgnoreLabel where unknown; empty when unlabelled
  int64_t length() const { return static_cast<int64_t>(tokens.size()); }
};

struct Dataset {
  std::string source;  // file it was read from
  std::vector<Record> records;
  int64_t positions() const;
  int64_t counted_labels() const;  // positions whose label is not kIgnoreLabel
};

// Raw, unmapped contents of a file, so vocabularies can be built from the
// training split before any ids are assigned.
struct RawRecord {
  std::string id;
  int64_t line = 0;                  // line of the record's first line
  std::vector<std::string> symbols;  // residues (one char each) or tokens
  std::vector<std::string> labels;   // same length, or empty when unlabelled
  int64_t labels_line = 0;  // line holding the labels (3-line); 0: label i sits on line `line + i` (CoNLL)
};

std::vector<RawRecord> read_raw(const std::string& path, InputFormat format);
std::vector<RawRecord> parse_raw(std::string_view text, InputFormat format, const std::string& source);

// Applies data.max_length to records read from `source` (0 = no limit):
// TooLong::Error throws an InputError naming the file, line, record, length
// and limit; TooLong::Crop keeps each record's first max_length positions.
void apply_length_limit(std::vector<RawRecord>& records, int64_t max_length, TooLong policy, const std::string& source);

// Token vocabularies read CoNLL input; the protein alphabet reads 3-line and
// FASTA. An InputError naming `source` otherwise: a model meets another kind
// of data.
void check_vocabulary_fits_format(const Vocabulary& vocab, InputFormat format, const std::string& source);

// Maps raw records to ids; a label outside `labels` is an InputError, and
// so is token data none of whose tokens the vocabulary knows (data from
// another corpus than the vocabulary's).
Dataset to_dataset(const std::vector<RawRecord>& raw, const Vocabulary& vocab, const LabelSet& labels,
                   const std::string& source);

// Convenience: read and map in one go (after check_vocabulary_fits_format).
Dataset read_dataset(const std::string& path, InputFormat format, const Vocabulary& vocab,
                     const LabelSet& labels);

// The splits of a run with the vocabulary and label set built from the
// training split (the fixed protein alphabet for sequence formats; a
// min-frequency token vocabulary for CoNLL). Empty paths give empty splits;
// a split whose file holds no record or no counted label is an InputError
// naming the split and the file. data.max_length applies to every split.
struct TrainingData {
  Vocabulary vocab;
  LabelSet labels;
  Dataset train, valid, test;
};
TrainingData load_training_data(const DataConfig& config);

// Writes records in the 3-line format (labels as symbols), via a temporary
// file renamed into place.
void write_three_line(const std::string& path, const std::vector<std::string>& ids,
                      const std::vector<std::string>& sequences, const std::vector<std::string>& labels);

}  // namespace seqcnn
