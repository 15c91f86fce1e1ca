// data.max_length: a record longer than the limit either stops the run with
// its place named, or keeps its first max_length positions.
#include "data/text_scan.hpp"
#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

void apply_length_limit(std::vector<RawRecord>& records, int64_t max_length, TooLong policy, const std::string& source) {
  if (max_length < 0) throw ConfigError("config 'data.max_length': must be >= 0, got " + std::to_string(max_length));
  if (max_length == 0) return;
  const auto limit = static_cast<size_t>(max_length);
  for (RawRecord& r : records) {
    if (r.symbols.size() <= limit) continue;
    if (policy == TooLong::Error) {
      data::throw_input_error(data::TextPlace{source, r.line, r.id},
                              "length " + std::to_string(r.symbols.size()) + " exceeds data.max_length " +
                                  std::to_string(max_length) + " (set data.too_long to \"crop\" to keep the first " +
                                  std::to_string(max_length) + " positions)");
    }
    r.symbols.resize(limit);
    if (r.labels.size() > limit) r.labels.resize(limit);
  }
}

void check_vocabulary_fits_format(const Vocabulary& vocab, InputFormat format, const std::string& source) {
  const bool token_format = format == InputFormat::Conll;
  const bool token_vocab = vocab.kind() == Vocabulary::Kind::Token;
  if (token_format == token_vocab) return;
  if (token_vocab) {
    throw InputError(source + ": vocabulary mismatch: the model has a token vocabulary (" + std::to_string(vocab.size()) +
                     " symbols, trained on CoNLL input) and cannot read " + std::string(to_string(format)) +
                     " data (use the conll format, or a protein model)");
  }
  throw InputError(source + ": vocabulary mismatch: the model has the protein alphabet (3line/fasta input) and cannot read " +
                   std::string(to_string(format)) + " data (use a model trained on CoNLL input)");
}

}  // namespace seqcnn
