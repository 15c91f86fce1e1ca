// Checkpoint pieces shared by model checkpoints and resume files: the
// "seqcnn" metadata that rebuilds a model, the checksum, and the strict
// loader that never trusts a size it has not checked.
#pragma once

#include <string>
#include <string_view>

#include "io/safetensors.hpp"
#include "seqcnn/checkpoint.hpp"

namespace seqcnn {

// The model's tensors (PyTorch names and layouts) and the "seqcnn" metadata.
StFile checkpoint_file(const Model& model, const CheckpointInfo& info);

// Stores the FNV-1a checksum of all tensors, then writes atomically.
void write_checkpoint_file(const std::string& path, StFile& file);

// A resume file's optimiser state is stored under names with this prefix;
// a model checkpoint has none.
inline constexpr std::string_view kOptimizerTensorPrefix = "optimizer.";

// Checks the checksum and the metadata, then rebuilds the model from the
// tensors whose names do not start with `skip_prefix` (a resume file's
// optimiser state). CheckpointError naming `source` on any fault.
LoadedCheckpoint checkpoint_from_file(const StFile& file, const std::string& source, std::string_view skip_prefix = {});

}  // namespace seqcnn
