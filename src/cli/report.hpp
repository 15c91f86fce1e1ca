// How the CLI shows progress, summaries and metrics, and parses enum flags.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "seqcnn/seqcnn.hpp"

namespace seqcnn {

InputFormat parse_format(const std::string& text);
DeviceKind parse_device(const std::string& text);
std::string format_percent(double fraction);

// Live progress line (rewritten in place on a terminal) and per-epoch lines.
class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream& out, bool quiet);
  void step(const StepProgress& p);
  void epoch(const EpochReport& r, int epochs);

 private:
  std::ostream& out_;
  bool quiet_;
  bool terminal_;
  bool line_open_ = false;
};

void print_summary(std::ostream& out, const TrainSummary& s);
void print_eval(std::ostream& out, const EvalResult& r);

// 3-line predictions to `output` (stdout when empty) and optionally the TSV of probabilities.
void write_predictions(const std::string& output, const std::string& probabilities,
                       const std::vector<RawRecord>& inputs, const std::vector<Prediction>& predictions,
                       const LabelSet& labels);

}  // namespace seqcnn
