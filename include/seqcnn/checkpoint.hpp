// Checkpoints in the safetensors format: the model's tensors under PyTorch's
// state_dict names and layouts, plus JSON metadata (config, vocabulary,
// label set, training step). A PyTorch model loads them with no conversion.
#pragma once

#include <cstdint>
#include <string>

#include "seqcnn/model.hpp"

namespace seqcnn {

struct CheckpointInfo {
  int64_t step = 0;             // optimiser steps taken
  int epoch = 0;                // epochs completed
  std::string train_config_json;  // the run's whole config, when saved by a trainer
  double valid_accuracy = -1.0;   // < 0 when not evaluated
};

struct LoadedCheckpoint {
  Model model;
  CheckpointInfo info;
};

// Writes to a temporary file beside `path`, then renames it into place, so a
// reader never sees a half-written checkpoint.
void save_checkpoint(const std::string& path, const Model& model, const CheckpointInfo& info);

// CheckpointError names the file and what is wrong (truncated, bad header,
// missing or misshapen tensor).
LoadedCheckpoint load_checkpoint(const std::string& path);

}  // namespace seqcnn
