// The per-position CNN: embedding -> Conv1D+bias+ReLU (xN) -> dense.
// Parameters live in one flat float buffer (tensors are offsets) in the
// engine's internal layout; state_dict() presents them under PyTorch's
// names and layouts (embed.weight [V][E], convs.N.weight [O][I][K],
// dense.weight [C][J]) so checkpoints load into PyTorch unchanged.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "seqcnn/config.hpp"
#include "seqcnn/dataset.hpp"

namespace seqcnn {

// A named tensor in PyTorch's layout (row-major, shape as PyTorch has it).
struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// The flat buffer holds all weights (conv, dense) first, then the
// embedding, then all biases, so the optimiser applies a weight decay per
// group with one launch over three contiguous ranges.
enum class ParamGroup { Weight, Embedding, Bias };

// Where one parameter tensor sits in the flat buffer.
struct ParamInfo {
  std::string name;                   // PyTorch state_dict name
  std::vector<int64_t> torch_shape;   // PyTorch shape
  std::vector<int64_t> engine_shape;  // internal shape (conv weight: [K][I][O])
  int64_t offset = 0;                 // in floats
  int64_t size = 0;
  ParamGroup group = ParamGroup::Weight;
};

// A value type: it owns its parameters in host memory, and copying a Model
// copies the weights. Engines (CPU or CUDA) take their own copy of the
// parameters for the length of a run and write them back at the end.
class Model {
 public:
  Model() = default;  // empty; use initialize() or load_checkpoint()
  // PyTorch's default initialisation for the same layers, drawn from a
  // counter-based generator keyed by `seed` (same weights on every machine).
  static Model initialize(const ModelConfig& config, Vocabulary vocab, LabelSet labels, uint64_t seed);

  const ModelConfig& config() const { return config_; }
  const Vocabulary& vocab() const { return vocab_; }
  const LabelSet& labels() const { return labels_; }
  int classes() const { return labels_.size(); }
  int halo_rows() const { return config_.halo_rows(); }

  const std::vector<ParamInfo>& params() const { return params_; }
  // The tensor named `name` (PyTorch name); Error if there is none.
  const ParamInfo& param(std::string_view name) const;
  int64_t parameter_count() const { return static_cast<int64_t>(flat_.size()); }
  // End offsets of the weight and embedding groups in the flat buffer.
  int64_t weights_end() const;
  int64_t embedding_end() const;
  std::span<const float> flat() const { return flat_; }
  std::span<float> flat() { return flat_; }

  // PyTorch names, shapes and layouts.
  std::vector<Tensor> state_dict() const;
  // Strict: every tensor present with the right shape, nothing extra;
  // CheckpointError naming the tensor otherwise.
  void load_state_dict(const std::vector<Tensor>& tensors);

 private:
  void build_layout();
  ModelConfig config_;
  Vocabulary vocab_;
  LabelSet labels_;
  std::vector<ParamInfo> params_;
  std::vector<float> flat_;
};

}  // namespace seqcnn
