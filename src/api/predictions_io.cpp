// Text forms of predictions (3-line labels, per-class probability TSV).
#include <cstdio>

#include "io/atomic_file.hpp"
#include "seqcnn/errors.hpp"
#include "seqcnn/trainer.hpp"

namespace seqcnn {

namespace {

void check_sizes(const std::vector<RawRecord>& inputs, const std::vector<Prediction>& predictions) {
  if (inputs.size() != predictions.size())
    throw Error(std::to_string(inputs.size()) + " input records but " + std::to_string(predictions.size()) + " predictions");
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].symbols.size() != predictions[i].labels.size())
      throw Error("record '" + inputs[i].id + "' has " + std::to_string(inputs[i].symbols.size()) + " positions but " +
                  std::to_string(predictions[i].labels.size()) + " predicted labels");
}

}  // namespace

std::string predictions_three_line(const std::vector<RawRecord>& inputs, const std::vector<Prediction>& predictions,
                                   const LabelSet& labels) {
  check_sizes(inputs, predictions);
  std::string out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    out += ">" + inputs[i].id + "\n";
    for (const auto& s : inputs[i].symbols) out += s;
    out += "\n";
    for (int32_t y : predictions[i].labels) out += labels.symbols()[static_cast<size_t>(y)];
    out += "\n";
  }
  return out;
}

std::string predictions_tsv(const std::vector<RawRecord>& inputs, const std::vector<Prediction>& predictions,
                            const LabelSet& labels) {
  check_sizes(inputs, predictions);
  const size_t C = labels.symbols().size();
  std::string out = "id\tposition\tresidue\tpredicted";
  for (const auto& s : labels.symbols()) out += "\tp_" + s;
  out += "\n";
  char number[32];
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Prediction& p = predictions[i];
    for (size_t t = 0; t < p.labels.size(); ++t) {
      out += inputs[i].id + "\t" + std::to_string(t + 1) + "\t" + inputs[i].symbols[t] + "\t" +
             labels.symbols()[static_cast<size_t>(p.labels[t])];
      for (size_t c = 0; c < C; ++c) {
        std::snprintf(number, sizeof number, "\t%.6g", static_cast<double>(p.probabilities[t * C + c]));
        out += number;
      }
      out += "\n";
    }
  }
  return out;
}

void write_text_atomically(const std::string& path, std::string_view text) { write_file_atomically(path, text); }

}  // namespace seqcnn
