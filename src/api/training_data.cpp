// Builds the vocabulary and label set from the training split and maps all
// splits with them.
#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

TrainingData load_training_data(const DataConfig& config) {
  if (config.train_path.empty()) throw ConfigError("config 'data.train': no training file given");
  const std::vector<RawRecord> train_raw = read_raw(config.train_path, config.format);
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
  out.train = to_dataset(train_raw, out.vocab, out.labels, config.train_path);
  if (!config.valid_path.empty()) out.valid = read_dataset(config.valid_path, config.format, out.vocab, out.labels);
  if (!config.test_path.empty()) out.test = read_dataset(config.test_path, config.format, out.vocab, out.labels);
  return out;
}

}  // namespace seqcnn
