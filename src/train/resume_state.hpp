// The resume file <out>/last.resume.safetensors: the model's tensors, the
// AdamW moments and the run's position, written at the same moments as
// last.safetensors. The batch plan is a pure function of (seed, epoch) and
// dropout masks are keyed by the micro-batch counter, so the position below
// is the whole random state: a resumed run ends bitwise where an
// uninterrupted one would.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/safetensors.hpp"
#include "seqcnn/checkpoint.hpp"
#include "seqcnn/config.hpp"
#include "seqcnn/dataset.hpp"

namespace seqcnn {

struct ResumeState {
  // Where the run stands: the next optimiser step is step `next_step`
  // (0-based) of epoch `epoch`'s plan.
  int epoch = 1;
  int64_t next_step = 0;
  int64_t train_step_calls = 0;  // every call, skipped or not
  int64_t micro_batches = 0;     // keys the dropout masks
  int64_t steps_taken = 0;       // optimiser steps (the LR schedule's clock)
  int64_t steps_skipped = 0;     // all-masked steps
  int64_t nonfinite_steps = 0;   // steps left out by run.nonfinite = skip
  // Best checkpoint and early stopping.
  double best_valid_accuracy = -1.0;
  int best_epoch = 0;
  int epochs_without_gain = 0;
  // Running totals of the current epoch, so its report matches too.
  double epoch_loss_sum = 0.0;
  int64_t epoch_steps = 0, epoch_counted = 0, epoch_correct = 0, epoch_tokens = 0;
  // The training data the run was planned on.
  std::string train_fingerprint;
  int64_t train_records = 0;
  // AdamW moments in the engine's flat layout.
  std::vector<float> m, v;
};

struct LoadedResume {
  LoadedCheckpoint checkpoint;  // model, vocabulary, labels, the run's config
  ResumeState state;
};

// Written atomically, with the same checksum as a checkpoint.
void save_resume_file(const std::string& path, const Model& model, const CheckpointInfo& info, const ResumeState& state);

// CheckpointError naming `path` when the file is not a whole, consistent
// resume file.
LoadedResume load_resume_file(const std::string& path);
// The same from a parsed file; `source` names it in errors.
LoadedResume resume_from_file(const StFile& file, const std::string& source);

// FNV-1a over every record's tokens and labels: the same data gives the
// same plan.
std::string dataset_fingerprint(const Dataset& data);

// A resumed run may change only what leaves the arithmetic alone (epochs
// when the learning-rate schedule is constant, threads, device, logging,
// checkpoint cadence, patience, the non-finite policy, file paths);
// CheckpointError naming `source` and every other key that differs.
void check_resumable_config(const TrainConfig& stored, const TrainConfig& now, const std::string& source);

}  // namespace seqcnn
