#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/readers.hpp"
#include "data/text_scan.hpp"
#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

int64_t Dataset::positions() const {
  int64_t total = 0;
  for (const Record& r : records) total += r.length();
  return total;
}

int64_t Dataset::counted_labels() const {
  int64_t total = 0;
  for (const Record& r : records)
    for (int32_t label : r.labels) total += label != kIgnoreLabel ? 1 : 0;
  return total;
}

std::vector<RawRecord> parse_raw(std::string_view text, InputFormat format, const std::string& source) {
  switch (format) {
    case InputFormat::ThreeLine: return data::parse_three_line(text, source);
    case InputFormat::Fasta: return data::parse_fasta(text, source);
    case InputFormat::Conll: return data::parse_conll(text, source);
  }
  throw ConfigError(source + ": unknown input format");
}

std::vector<RawRecord> read_raw(const std::string& path, InputFormat format) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path + ": cannot read: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading: " + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw InputError(path + ": read error: " + std::strerror(errno));
  return parse_raw(contents.str(), format, path);
}

namespace {

std::string label_choices(const LabelSet& labels) {
  std::string list;
  for (const std::string& s : labels.symbols()) list += (list.empty() ? "" : ", ") + s;
  if (!labels.no_label().empty()) list += " or the no-label symbol '" + labels.no_label() + "'";
  return list;
}

}  // namespace

Dataset to_dataset(const std::vector<RawRecord>& raw, const Vocabulary& vocab, const LabelSet& labels,
                   const std::string& source) {
  Dataset dataset;
  dataset.source = source;
  dataset.records.reserve(raw.size());
  int64_t unknown_tokens = 0;
  for (const RawRecord& r : raw) {
    // CoNLL puts each symbol on its own line; the 3-line format puts all on one.
    auto line_of = [&](size_t i, bool label) {
      if (r.labels_line > 0) return label ? r.labels_line : r.labels_line - 1;
      return r.line + static_cast<int64_t>(i);
    };
    auto fail = [&](size_t i, bool label, const std::string& what) {
      data::throw_input_error(data::TextPlace{source, line_of(i, label), r.id, static_cast<int64_t>(i + 1)}, what);
    };
    if (r.symbols.empty()) data::throw_input_error(data::TextPlace{source, r.line, r.id}, "empty record (no residues or tokens)");
    if (!r.labels.empty() && r.labels.size() != r.symbols.size()) {
      data::throw_input_error(data::TextPlace{source, r.line, r.id},
                              std::to_string(r.symbols.size()) + " symbols but " + std::to_string(r.labels.size()) + " labels");
    }
    Record record;
    record.id = r.id;
    record.tokens.reserve(r.symbols.size());
    for (size_t i = 0; i < r.symbols.size(); ++i) {
      const std::string& symbol = r.symbols[i];
      if (vocab.kind() == Vocabulary::Kind::Protein) {
        if (symbol.size() != 1 || !data::is_ascii_letter(symbol[0]))
          fail(i, false, "expected a residue letter (the vocabulary is the protein alphabet), found '" + symbol + "'");
        record.tokens.push_back(vocab.residue_id(symbol[0]));
      } else {
        record.tokens.push_back(vocab.id(symbol));
      }
    }
    unknown_tokens += std::count(record.tokens.begin(), record.tokens.end(), vocab.unknown_id());
    record.labels.reserve(r.labels.size());
    for (size_t i = 0; i < r.labels.size(); ++i) {
      const int32_t label = labels.id(r.labels[i]);
      if (label == -2)
        fail(i, true, "unknown label symbol '" + r.labels[i] + "': not in the label set (expected " + label_choices(labels) + ")");
      record.labels.push_back(label);
    }
    dataset.records.push_back(std::move(record));
  }
  // Every token unknown: the data and the vocabulary come from different
  // corpora (or a model meets another kind of data); training or scoring
  // on nothing but <unk> would be meaningless.
  if (vocab.kind() == Vocabulary::Kind::Token && dataset.positions() > 0 && unknown_tokens == dataset.positions()) {
    std::string examples;
    for (size_t i = 2; i < vocab.symbols().size() && i < 5; ++i) examples += (i > 2 ? ", '" : " (e.g. '") + vocab.symbols()[i] + "'";
    if (!examples.empty()) examples += ")";
    throw InputError(source + ": vocabulary mismatch: none of the " + std::to_string(dataset.positions()) +
                     " tokens is in the vocabulary of " + std::to_string(vocab.size()) + " symbols" + examples +
                     " (data from another corpus or format than the model's?)");
  }
  return dataset;
}

Dataset read_dataset(const std::string& path, InputFormat format, const Vocabulary& vocab, const LabelSet& labels) {
  check_vocabulary_fits_format(vocab, format, path);
  return to_dataset(read_raw(path, format), vocab, labels, path);
}

}  // namespace seqcnn
