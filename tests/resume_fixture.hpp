// A small training run for the resume and non-finite tests: random
// protein-like records, a two-conv model, and a config that uses every part
// of the state a resume must restore (dropout masks, accumulation, clipping,
// weight decay, a warmed-up cosine schedule, validation and the best
// checkpoint).
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "seqcnn/checkpoint.hpp"
#include "seqcnn/trainer.hpp"

namespace seqcnn::testing {

// `count` records with lengths in [min_length, max_length]; tokens drawn
// from `alphabet` (residue letters), every fifth label unknown.
inline Dataset protein_records(int count, int64_t min_length, int64_t max_length, uint64_t seed,
                               const std::string& alphabet = "ACDEFGHIKLMNPQRSTVY") {
  std::mt19937_64 rng(seed);
  const Vocabulary vocab = Vocabulary::protein();
  Dataset d;
  d.source = "records-" + std::to_string(seed);
  for (int i = 0; i < count; ++i) {
    Record r;
    r.id = "seq" + std::to_string(i);
    const int64_t n = min_length + static_cast<int64_t>(rng() % static_cast<uint64_t>(max_length - min_length + 1));
    for (int64_t t = 0; t < n; ++t) {
      r.tokens.push_back(vocab.residue_id(alphabet[rng() % alphabet.size()]));
      r.labels.push_back(rng() % 5 == 0 ? kIgnoreLabel : static_cast<int32_t>(rng() % 3));
    }
    d.records.push_back(std::move(r));
  }
  return d;
}

inline ModelConfig two_conv_model() {
  ModelConfig mc;
  mc.embed_dim = 5;
  mc.convs = {ConvLayerConfig{6, 4, 1}, ConvLayerConfig{7, 3, 2}};
  mc.dropout = 0.2;
  return mc;
}

inline Model fresh_model(const TrainConfig& config) {
  return Model::initialize(config.model, Vocabulary::protein(), LabelSet({"C", "E", "H"}, "-"), config.run.seed);
}

inline TrainConfig resumable_config(const std::string& out_dir) {
  TrainConfig c = preset_config("seed");
  c.model = two_conv_model();
  c.batch.batch_sequences = 0;
  c.batch.batch_rows = 160;
  c.batch.accumulation = 2;
  c.optim.lr = 3e-3;
  c.optim.weight_decay = 0.01;
  c.optim.clip_norm = 0.5;
  c.optim.schedule = LrSchedule::Cosine;
  c.optim.warmup_steps = 3;
  c.optim.min_lr_ratio = 0.1;
  c.run.seed = 11;
  c.run.epochs = 3;
  c.run.threads = 1;
  c.run.log_every_steps = 1;
  c.run.checkpoint_every_steps = 2;
  c.run.out_dir = out_dir;
  return c;
}

inline std::vector<float> weights_of(const Model& m) { return {m.flat().begin(), m.flat().end()}; }

inline bool all_finite(const Model& m) {
  for (float x : m.flat())
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace seqcnn::testing
