#include "report.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace seqcnn {

InputFormat parse_format(const std::string& text) {
  if (text == "3line" || text == "ss" || text == "three_line") return InputFormat::ThreeLine;
  if (text == "fasta") return InputFormat::Fasta;
  if (text == "conll") return InputFormat::Conll;
  throw ConfigError("unknown format '" + text + "' (expected 3line, fasta or conll)");
}

DeviceKind parse_device(const std::string& text) {
  if (text == "cpu") return DeviceKind::Cpu;
  if (text == "cuda" || text == "gpu") return DeviceKind::Cuda;
  if (text == "auto") return DeviceKind::Auto;
  throw ConfigError("unknown device '" + text + "' (expected cpu, cuda or auto)");
}

std::string format_percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * fraction);
  return buf;
}

namespace {

std::string format_duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

ProgressPrinter::ProgressPrinter(std::ostream& out, bool quiet)
    : out_(out), quiet_(quiet), terminal_(&out == &std::cerr ? isatty(2) != 0 : false) {}

void ProgressPrinter::step(const StepProgress& p) {
  if (quiet_) return;
  char buf[256];
  const int64_t in_epoch = p.steps_per_epoch > 0 ? (p.step - 1) % p.steps_per_epoch + 1 : p.step;
  std::snprintf(buf, sizeof buf, "epoch %d step %lld/%lld loss %.4f lr %.2e %.0f tok/s ETA %s%s", p.epoch,
                static_cast<long long>(in_epoch), static_cast<long long>(p.steps_per_epoch), p.loss, p.lr,
                p.tokens_per_second, format_duration(p.eta_seconds).c_str(),
                p.skipped_steps > 0 ? (" skipped " + std::to_string(p.skipped_steps)).c_str() : "");
  if (terminal_) {
    out_ << "\r\033[K" << buf << std::flush;
    line_open_ = true;
  } else {
    out_ << buf << "\n";
  }
}

void ProgressPrinter::epoch(const EpochReport& r, int epochs) {
  if (line_open_) {
    out_ << "\r\033[K";
    line_open_ = false;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "epoch %d/%d  train loss %.4f acc %s  %.0f tok/s  waste %s  %.1fs", r.epoch, epochs,
                r.train_loss, format_percent(r.train_accuracy).c_str(), r.tokens_per_second,
                format_percent(r.padding_waste).c_str(), r.seconds);
  out_ << buf;
  if (r.has_valid) {
    std::snprintf(buf, sizeof buf, "  | valid loss %.4f acc %s", r.valid.loss, format_percent(r.valid.accuracy).c_str());
    out_ << buf;
    for (const auto& c : r.valid.per_class) out_ << " " << c.label << " " << format_percent(c.recall);
    if (r.improved) out_ << "  *best*";
  }
  out_ << "\n";
}

void print_summary(std::ostream& out, const TrainSummary& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "trained %d epochs (%lld steps)%s, %.0f tokens/s; best validation accuracy %s at epoch %d\n",
                s.epochs_run, static_cast<long long>(s.steps), s.stopped_early ? ", stopped early" : "",
                s.tokens_per_second, s.best_valid_accuracy >= 0 ? format_percent(s.best_valid_accuracy).c_str() : "n/a",
                s.best_epoch);
  out << buf;
}

void print_eval(std::ostream& out, const EvalResult& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "  positions %lld  loss %.4f  accuracy %s\n", static_cast<long long>(r.counted), r.loss,
                format_percent(r.accuracy).c_str());
  out << buf;
  out << "  class  precision  recall      f1   support\n";
  for (const auto& c : r.per_class) {
    std::snprintf(buf, sizeof buf, "  %-5s  %9.4f  %6.4f  %6.4f  %8lld\n", c.label.c_str(), c.precision, c.recall, c.f1,
                  static_cast<long long>(c.support));
    out << buf;
  }
  out << "  confusion [true][predicted]:\n        ";
  for (const auto& c : r.per_class) {
    std::snprintf(buf, sizeof buf, "%8s", c.label.c_str());
    out << buf;
  }
  out << "\n";
  for (size_t i = 0; i < r.confusion.size(); ++i) {
    std::snprintf(buf, sizeof buf, "  %-5s ", r.per_class[i].label.c_str());
    out << buf;
    for (int64_t n : r.confusion[i]) {
      std::snprintf(buf, sizeof buf, "%8lld", static_cast<long long>(n));
      out << buf;
    }
    out << "\n";
  }
}

void write_predictions(const std::string& output, const std::string& probabilities,
                       const std::vector<RawRecord>& inputs, const std::vector<Prediction>& predictions,
                       const LabelSet& labels) {
  const std::string text = predictions_three_line(inputs, predictions, labels);
  if (output.empty() || output == "-") std::cout << text;
  else write_text_atomically(output, text);
  if (!probabilities.empty()) write_text_atomically(probabilities, predictions_tsv(inputs, predictions, labels));
}

}  // namespace seqcnn
