// Training and evaluation. The trainer drives the CPU or CUDA engine with
// batches from the scheduler; it prints nothing and reports through
// callbacks, so the caller decides what a progress line looks like.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "seqcnn/config.hpp"
#include "seqcnn/dataset.hpp"
#include "seqcnn/model.hpp"

namespace seqcnn {

struct ClassStats {
  std::string label;
  int64_t support = 0;  // counted positions whose true label is this class
  double precision = 0.0, recall = 0.0, f1 = 0.0;
};

struct EvalResult {
  double loss = 0.0;  // token-mean cross-entropy (no smoothing, no weights); 0 when nothing counted
  double accuracy = 0.0;
  int64_t counted = 0;  // positions that entered the metrics
  std::vector<ClassStats> per_class;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
};

struct StepProgress {
  int epoch = 0;       // 1-based
  int64_t step = 0;    // optimiser steps taken in the run
  int64_t steps_per_epoch = 0;
  int64_t total_steps = 0;
  double loss = 0.0;   // mean over the steps since the last report
  double lr = 0.0;
  double tokens_per_second = 0.0;  // real residues, not rows
  double eta_seconds = 0.0;
  int64_t skipped_steps = 0;  // all-masked steps skipped so far
};

struct EpochReport {
  int epoch = 0;
  int64_t step = 0;
  double train_loss = 0.0;
  double train_accuracy = 0.0;
  double padding_waste = 0.0;  // computed rows that hold no residue / all computed rows
  double seconds = 0.0;
  double tokens_per_second = 0.0;
  bool has_valid = false;
  EvalResult valid;
  bool improved = false;  // new best validation accuracy
};

struct TrainSummary {
  int epochs_run = 0;
  int64_t steps = 0;
  int best_epoch = 0;
  double best_valid_accuracy = -1.0;
  bool stopped_early = false;
  double tokens_per_second = 0.0;  // over the whole run, training steps only
};

// Per-position output of predict: class probabilities [length][classes].
struct Prediction {
  std::vector<int32_t> labels;
  std::vector<float> probabilities;
};

class Trainer {
 public:
  // The model is trained in place. `valid` may be null (no validation,
  // no best checkpoint, no early stopping).
  Trainer(TrainConfig config, Model& model, const Dataset& train, const Dataset* valid);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  void on_step(std::function<void(const StepProgress&)> callback);
  void on_epoch(std::function<void(const EpochReport&)> callback);
  // Called with each line of the JSONL log (one JSON object per line).
  void on_log(std::function<void(const std::string&)> callback);

  // Runs the configured epochs; writes checkpoints into config.run.out_dir
  // when it is not empty (last.safetensors, best.safetensors).
  TrainSummary run();

  // The engine actually used ("cpu" or "cuda") and why when auto fell back.
  std::string device_description() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct EvalOptions {
  DeviceKind device = DeviceKind::Cpu;
  int threads = 0;
  int64_t batch_rows = 65536;
};

EvalResult evaluate(const Model& model, const Dataset& data, const EvalOptions& options = {});

std::vector<Prediction> predict(const Model& model, const std::vector<Record>& records,
                                const EvalOptions& options = {});

// Predictions as 3-line text: header, input sequence, predicted labels.
std::string predictions_three_line(const std::vector<RawRecord>& inputs, const std::vector<Prediction>& predictions,
                                   const LabelSet& labels);
// Per-position probabilities as TSV: id, position (1-based), residue,
// predicted label, then one column per class.
std::string predictions_tsv(const std::vector<RawRecord>& inputs, const std::vector<Prediction>& predictions,
                            const LabelSet& labels);

// Writes `text` to a temporary file and renames it over `path`: readers
// never see a half-written file.
void write_text_atomically(const std::string& path, std::string_view text);

}  // namespace seqcnn
