// The small model, synthetic data and step builder shared by the CUDA engine
// tests (test_cuda_engine*.cpp): dropout, label smoothing, class weights,
// clipping and a warm-up + cosine schedule all switched on, so a step
// exercises every piece of the engine.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "grad_check.hpp"
#include "sched/batch.hpp"
#include "seqcnn/model.hpp"
#include "train/engine.hpp"
#include "train/loss_scale.hpp"

namespace seqcnn::testing {

inline constexpr double kEngineParity = 1e-6;
inline constexpr int64_t kRowBudget = 320;  // a fixed row budget: every step has the same shape
inline constexpr int32_t kFixtureRecords = 16;  // record 16 is the all-masked one

struct EngineFixture {
  Model model;
  EngineOptions options;
  Dataset data;

  // vocab_words == 0: the protein alphabet, tokens drawn uniformly. Else a
  // token vocabulary of that many words (plus <pad> and <unk>), tokens drawn
  // log-uniformly so that low ids repeat many times within a batch, as
  // frequent words do.
  explicit EngineFixture(int vocab_words = 0) {
    ModelConfig config;
    config.embed_dim = 7;
    config.convs = {ConvLayerConfig{17, 5, 1}, ConvLayerConfig{9, 4, 2}};
    config.dropout = 0.1;
    Vocabulary vocab = Vocabulary::protein();
    if (vocab_words > 0) {
      std::vector<std::string> words;
      for (int w = 0; w < vocab_words; ++w) words.push_back("w" + std::to_string(w));
      vocab = Vocabulary::from_tokens(words, 1);
    }
    model = Model::initialize(config, vocab, LabelSet({"C", "E", "H"}, "-"), 21);
    options.loss.label_smoothing = 0.05;
    options.loss.class_weights = {1.0, 2.0, 0.5};
    options.optim.lr = 1e-3;
    options.optim.weight_decay = 0.01;
    options.optim.decay_embedding = true;
    options.optim.clip_norm = 0.5;
    options.optim.schedule = LrSchedule::Cosine;
    options.optim.warmup_steps = 3;
    options.optim.min_lr_ratio = 0.1;
    options.total_steps = 10;
    options.seed = 9;

    std::mt19937_64 rng(4);
    const int vocab_size = model.vocab().size();
    std::uniform_int_distribution<int32_t> token(1, vocab_size - 1), label(0, 2), unknown(0, 6);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto draw_token = [&]() {
      if (vocab_words == 0) return token(rng);
      const double id = std::exp(unit(rng) * std::log(static_cast<double>(vocab_size)));
      return std::clamp(static_cast<int32_t>(id), 1, vocab_size - 1);
    };
    data.source = "synthetic";
    const int64_t lengths[kFixtureRecords] = {1, 37, 60, 5, 12, 80, 2, 45, 30, 9, 64, 1, 20, 33, 50, 7};
    for (int64_t n : lengths) {
      Record r;
      r.id = "seq" + std::to_string(data.records.size());
      for (int64_t t = 0; t < n; ++t) {
        r.tokens.push_back(draw_token());
        r.labels.push_back(unknown(rng) == 0 ? kIgnoreLabel : label(rng));
      }
      data.records.push_back(r);
    }
    Record masked;  // real residues, no counted label
    masked.id = "masked";
    masked.tokens = {3, 4, 5, 6};
    masked.labels = {kIgnoreLabel, kIgnoreLabel, kIgnoreLabel, kIgnoreLabel};
    data.records.push_back(masked);
  }

  Batch batch(std::vector<int32_t> records, int64_t row_budget = kRowBudget) const {
    return make_batch(data, records, model.halo_rows(), BatchLayout::Packed, model.vocab().size(), row_budget);
  }
};

// Step s: two micro-batches of the dataset (the all-masked record alone when
// `masked`), row scales for the configured reduction, dropout keyed per
// micro-batch.
struct StepData {
  std::vector<Batch> batches;
  StepRequest request;

  StepData(const EngineFixture& f, int step, bool masked, int64_t row_budget = kRowBudget) {
    const int32_t records = kFixtureRecords;
    if (masked) {
      batches.push_back(f.batch({records}, row_budget));
    } else {
      const int32_t a = (3 * step) % records, b = (3 * step + 5) % records, c = (3 * step + 11) % records;
      batches.push_back(f.batch({a, b}, row_budget));
      batches.push_back(f.batch({c, (c + 1) % records}, row_budget));
    }
    for (size_t i = 0; i < batches.size(); ++i)
      request.micro.push_back(MicroBatch{&batches[i], {}, static_cast<uint64_t>(2 * step) + i});
    request.counted_weight = fill_row_scales(request.micro, f.options.loss);
  }
};

inline std::vector<float> parameters_of(Engine& engine, const Model& model) {
  std::vector<float> flat(static_cast<size_t>(model.parameter_count()));
  engine.get_parameters(flat);
  return flat;
}

// Normwise error per parameter tensor, each checked against the tolerance.
inline void expect_close_per_tensor(const Model& model, const std::vector<float>& got, const std::vector<float>& want,
                                    const std::string& what) {
  for (const ParamInfo& p : model.params()) {
    const std::span<const float> a(got.data() + p.offset, static_cast<size_t>(p.size));
    const std::span<const float> b(want.data() + p.offset, static_cast<size_t>(p.size));
    EXPECT_LE(normwise_relative_error(a, b), kEngineParity) << what << " of " << p.name;
  }
}

inline double relative(double a, double b) {
  const double scale = std::max(std::abs(a), std::abs(b));
  return scale == 0.0 ? 0.0 : std::abs(a - b) / scale;
}

}  // namespace seqcnn::testing
