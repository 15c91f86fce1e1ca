// Checkpoints in the safetensors format: the model's tensors under PyTorch's
// state_dict names and layouts, plus JSON metadata (config, vocabulary,
// label set, training step). A PyTorch model loads them with no conversion.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "seqcnn/model.hpp"

namespace seqcnn {

// What a checkpoint records beside the model; every field is optional.
struct CheckpointInfo {
  int64_t step = 0;             // optimiser steps taken
  int epoch = 0;                // epochs completed
  std::string train_config_json;  // the run's whole config (config_to_json) or empty; must be JSON
  double valid_accuracy = -1.0;   // < 0 when not evaluated
};

// A model rebuilt from a checkpoint (config, vocabulary, labels, weights)
// and the information saved with it.
struct LoadedCheckpoint {
  Model model;
  CheckpointInfo info;
};

// Writes to a temporary file beside `path`, then renames it into place, so a
// reader never sees a half-written checkpoint.
void save_checkpoint(const std::string& path, const Model& model, const CheckpointInfo& info);

// CheckpointError names the file and what is wrong (truncated, bad header,
// checksum mismatch, metadata that does not describe the stored tensors,
// missing or misshapen tensor). A resume file (last.resume.safetensors)
// loads as the model it holds.
LoadedCheckpoint load_checkpoint(const std::string& path);

// The same from the bytes of a file; `source` names it in errors.
LoadedCheckpoint load_checkpoint_from_bytes(std::span<const unsigned char> bytes, const std::string& source);

// Whether a stored model can stand in for `expected` (the model a config and
// its data describe). CheckpointError naming `source` and saying which of
// architecture, vocabulary and label set differs, and how, otherwise.
void check_same_model(const Model& stored, const Model& expected, const std::string& source);

}  // namespace seqcnn
