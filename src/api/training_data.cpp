// Builds the vocabulary and label set from the training split and maps all
// splits with them. Every error from a split's file names the split.
#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

namespace {

// Runs `read` and prefixes an InputError's message with the split's name.
template <class F>
auto in_split(const char* split, F&& read) {
  try {
    return read();
  } catch (const InputError& e) {
    throw InputError(std::string(split) + " split: " + e.what());
  }
}

std::vector<RawRecord> read_split(const char* split, const std::string& path, const DataConfig& config) {
  return in_split(split, [&] {
    std::vector<RawRecord> raw = read_raw(path, config.format);
    apply_length_limit(raw, config.max_length, config.too_long, path);
    return raw;
  });
}

// A split with nothing to learn from or score on is an error, not a silent
// zero accuracy or a run of skipped steps.
void check_counts(const char* split, const Dataset& data, const std::string& no_label) {
  if (data.counted_labels() == 0)
    throw InputError(std::string(split) + " split: " + data.source + ": none of its " + std::to_string(data.records.size()) +
                     " records has a position with a counted label (every label is the no-label symbol '" + no_label + "')");
}

}  // namespace

TrainingData load_training_data(const DataConfig& config) {
  if (config.train_path.empty()) throw ConfigError("config 'data.train': no training file given");
  const std::vector<RawRecord> train_raw = read_split("training", config.train_path, config);
  TrainingData out;
  if (config.format == InputFormat::Conll) {
    std::vector<std::string> tokens;
    for (const RawRecord& r : train_raw) tokens.insert(tokens.end(), r.symbols.begin(), r.symbols.end());
    out.vocab = Vocabulary::from_tokens(tokens, config.min_token_freq);
  } else {
    out.vocab = Vocabulary::protein();
  }
  std::vector<std::string> seen;
  for (const RawRecord& r : train_raw) seen.insert(seen.end(), r.labels.begin(), r.labels.end());
  if (seen.empty()) throw InputError(config.train_path + ": the training file has no labels (a FASTA file cannot train)");
  out.labels = LabelSet::from_seen(seen, config.labels, config.no_label);
  out.train = in_split("training", [&] { return to_dataset(train_raw, out.vocab, out.labels, config.train_path); });
  check_counts("training", out.train, config.no_label);
  auto read_other = [&](const char* split, const std::string& path, Dataset& into) {
    if (path.empty()) return;
    const std::vector<RawRecord> raw = read_split(split, path, config);
    into = in_split(split, [&] { return to_dataset(raw, out.vocab, out.labels, path); });
    check_counts(split, into, config.no_label);
  };
  read_other("validation", config.valid_path, out.valid);
  read_other("test", config.test_path, out.test);
  return out;
}

}  // namespace seqcnn
