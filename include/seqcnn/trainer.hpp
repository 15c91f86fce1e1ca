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

// Precision, recall and F1 of one class over the counted positions.
struct ClassStats {
  std::string label;
  int64_t support = 0;  // counted positions whose true label is this class
  double precision = 0.0, recall = 0.0, f1 = 0.0;
};

// Metrics of a model on a labelled dataset (evaluate, and each epoch's
// validation in EpochReport).
struct EvalResult {
  double loss = 0.0;  // token-mean cross-entropy (no smoothing, no weights); 0 when nothing counted
  double accuracy = 0.0;
  int64_t counted = 0;  // positions that entered the metrics
  std::vector<ClassStats> per_class;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
};

// Passed to on_step every config.run.log_every_steps steps and at the end
// of each epoch.
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
  int64_t nonfinite_steps = 0;  // steps left out by run.nonfinite = skip so far
};

// Passed to on_epoch after each epoch (and its validation).
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

// What Trainer::run returns.
struct TrainSummary {
  int epochs_run = 0;
  int64_t steps = 0;
  int best_epoch = 0;
  double best_valid_accuracy = -1.0;
  bool stopped_early = false;
  double tokens_per_second = 0.0;  // over the whole run, training steps only
  int64_t skipped_steps = 0;       // all-masked steps
  int64_t nonfinite_steps = 0;     // steps left out by run.nonfinite = skip
  int resumed_epoch = 0;           // > 0: resumed at this epoch ...
  int64_t resumed_step = 0;        // ... before this step of its plan (0-based)
};

// Per-position output of predict: the most probable class of each position,
// and the class probabilities [length][classes] (row-major).
struct Prediction {
  std::vector<int32_t> labels;
  std::vector<float> probabilities;
};

// Trains a model with AdamW on the CPU or CUDA engine (config.run.device).
// It holds the engine and its memory (host or device) and releases them when
// destroyed; nothing is printed: progress reaches the caller through the
// callbacks. Files are written only into config.run.out_dir (an empty
// out_dir writes none). When config.run.threads > 0, run() sets OpenMP's
// thread count for the process.
class Trainer {
 public:
  // The model is trained in place. `model`, `train` and `valid` are held by
  // reference and must outlive the trainer. `valid` may be null (no
  // validation, no best checkpoint, no early stopping). Configuration
  // problems are reported by run(), before any step.
  Trainer(TrainConfig config, Model& model, const Dataset& train, const Dataset* valid);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  void on_step(std::function<void(const StepProgress&)> callback);
  void on_epoch(std::function<void(const EpochReport&)> callback);
  // Called with each line of the JSONL log (one JSON object per line).
  void on_log(std::function<void(const std::string&)> callback);

  // Continues the run saved in a resume file (<out>/last.resume.safetensors)
  // instead of starting afresh: the model's weights, the AdamW moments and
  // the position (epoch, step, dropout counter, best accuracy, early
  // stopping) are restored, so run() ends with weights bitwise identical to
  // an uninterrupted run's. Call before run(). CheckpointError when the file
  // is damaged or does not belong to this run, saying which of architecture,
  // vocabulary, label set, config keys or training data differs.
  void resume_from(const std::string& path);

  // Runs the configured epochs; writes checkpoints into config.run.out_dir
  // when it is not empty (init/last/best.safetensors, model tensors only;
  // last.resume.safetensors for resume_from, written at the same moments as
  // last; and the JSONL log train.jsonl). On return the model holds the
  // final weights. A NumericalError names the step, batch and tensor of a
  // non-finite loss or gradient (run.nonfinite = stop); no file is ever
  // written from non-finite parameters.
  TrainSummary run();

  // The engine actually used ("cpu" or "cuda") and why when auto fell back.
  std::string device_description() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The config stored in a resume file: the base a resumed run starts from.
TrainConfig resume_config(const std::string& path);

// How evaluate and predict run: engine, CPU threads (0 = all cores), and the
// row budget of each packed batch (a longer sequence gets a batch of its own).
struct EvalOptions {
  DeviceKind device = DeviceKind::Cpu;
  int threads = 0;
  int64_t batch_rows = 65536;
};

// Loss and metrics of `model` on `data` (labels needed); the model is not
// changed. Each call builds its own engine.
EvalResult evaluate(const Model& model, const Dataset& data, const EvalOptions& options = {});

// One Prediction per record, in order; labels in the records are ignored.
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
