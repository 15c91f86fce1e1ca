// Configuration of a seqcnn run: model shape, loss, optimiser, batching and
// the run itself. Plain structs with defaults; presets give whole recipes and
// a JSON file (or CLI flags) overrides single fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seqcnn {

struct ConvLayerConfig {
  int channels = 64;
  int kernel = 3;
  int dilation = 1;
};

// Largest reach dilation * (kernel - 1) a conv layer may have: keeps the
// halo arithmetic far from integer overflow (no real model comes close).
inline constexpr int kMaxConvReach = 1 << 20;

struct ModelConfig {
  int embed_dim = 32;
  std::vector<ConvLayerConfig> convs = std::vector<ConvLayerConfig>(1);  // one conv: 64 channels, kernel 3
  double dropout = 0.0;  // after each conv's ReLU, training only

  // Rows of zeros a sequence needs on each side so no conv reaches a neighbour:
  // the largest right reach d*(K-1) - padL over layers (it is >= the left one).
  int halo_rows() const;
};

enum class Reduction { TokenMean, Sum, SequenceMean };

struct LossConfig {
  Reduction reduction = Reduction::TokenMean;
  double label_smoothing = 0.0;
  std::vector<double> class_weights;  // empty = all 1; else one per class, >= 0
};

enum class LrSchedule { Constant, Cosine };

struct OptimConfig {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decay_embedding = false;  // PyTorch-style defaults: no decay on
  bool decay_bias = false;       // embeddings and biases
  double clip_norm = 0.0;        // 0 = no clipping
  LrSchedule schedule = LrSchedule::Constant;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.0;  // cosine floor as a fraction of lr
};

enum class BatchLayout { Packed, Padded };

struct BatchConfig {
  BatchLayout layout = BatchLayout::Packed;
  int batch_sequences = 32;  // > 0: batches of this many sequences
  int64_t batch_rows = 0;    // > 0 (and batch_sequences == 0): row budget per batch
  int buckets = 1;           // length buckets for the shuffle (1 = plain shuffle)
  int accumulation = 1;      // micro-batches per optimiser step
};

enum class DeviceKind { Cpu, Cuda, Auto };

enum class InputFormat { ThreeLine, Fasta, Conll };

// What a record longer than data.max_length does: stop with an error
// naming it, or keep its first max_length positions.
enum class TooLong { Error, Crop };

struct DataConfig {
  InputFormat format = InputFormat::ThreeLine;
  std::string train_path = "data/ss/train.ss3.txt";
  std::string valid_path = "data/ss/valid.ss3.txt";
  std::string test_path = "data/ss/test.ss3.txt";
  std::string labels;         // label symbols in class order; empty = sorted symbols seen
  std::string no_label = "-"; // label symbol of residues without a label
  int min_token_freq = 1;     // token mode: rarer tokens map to the unknown id
  int64_t max_length = 0;     // positions per record; 0 = no limit
  TooLong too_long = TooLong::Error;
};

// What a step whose loss or gradient norm is not finite does: stop the run
// (NumericalError naming the step, batch and tensor), or leave the step out
// (parameters, moments and step count unchanged) and count it.
enum class NonFinitePolicy { Stop, Skip };

struct RunConfig {
  int epochs = 20;
  uint64_t seed = 1;
  int threads = 0;  // 0 = all cores
  DeviceKind device = DeviceKind::Cpu;
  int64_t log_every_steps = 50;
  int64_t checkpoint_every_steps = 0;  // 0 = only at the end of each epoch
  int early_stopping_patience = 0;     // epochs without validation gain; 0 = off
  NonFinitePolicy nonfinite = NonFinitePolicy::Stop;
  std::string out_dir = "runs/latest";
};

struct TrainConfig {
  std::string preset = "seed";
  ModelConfig model;
  LossConfig loss;
  OptimConfig optim;
  BatchConfig batch;
  DataConfig data;
  RunConfig run;
};

// Named recipes: "seed" (the reference model) and "default" (the tuned one).
TrainConfig preset_config(std::string_view name);

// Overrides fields of `base` from a JSON document; unknown keys, wrong types
// and impossible values are a ConfigError naming `source` and the key.
TrainConfig apply_config_json(TrainConfig base, std::string_view json_text, std::string_view source);

// Checks ranges and combinations (e.g. 'valid' padding is not offered);
// throws ConfigError. Called by everything that consumes a config.
void validate_config(const TrainConfig& config);

// The whole config as JSON (stored in checkpoints and logs); round-trips
// through apply_config_json.
std::string config_to_json(const TrainConfig& config);

std::string_view to_string(Reduction r);
std::string_view to_string(BatchLayout l);
std::string_view to_string(DeviceKind d);
std::string_view to_string(InputFormat f);
std::string_view to_string(LrSchedule s);
std::string_view to_string(TooLong t);
std::string_view to_string(NonFinitePolicy p);

}  // namespace seqcnn
