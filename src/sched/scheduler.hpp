// The batch plan of an epoch: which records go together, in which order.
// Seeded, so a run (and a PyTorch peer given the same plan) sees the same
// batches; rank-aware so data-parallel runs can shard it.
#pragma once

#include <cstdint>
#include <vector>

#include "seqcnn/config.hpp"
#include "seqcnn/dataset.hpp"

namespace seqcnn {

struct EpochPlan {
  std::vector<std::vector<int32_t>> batches;  // record indices per batch, in layout order
  int64_t computed_rows = 0;  // rows the batches will occupy, halos and tails included
  int64_t real_rows = 0;      // residues
  double padding_waste() const {
    return computed_rows > 0 ? 1.0 - static_cast<double>(real_rows) / static_cast<double>(computed_rows) : 0.0;
  }
};

// Batches by sequence count (batch_sequences > 0) or by a row budget
// (batch_rows > 0). Length buckets group similar lengths before batching
// (then the batch order is shuffled); buckets = 1 is a plain shuffle.
// Throws ConfigError when a record cannot fit the row budget.
EpochPlan plan_epoch(const Dataset& data, const BatchConfig& config, int halo, uint64_t seed, int epoch,
                     bool shuffle = true);

// Fixed-order batches for evaluation: records in dataset order, packed up
// to `batch_rows` rows (a longer record gets a batch of its own).
EpochPlan plan_eval(const Dataset& data, int64_t batch_rows, int halo);

}  // namespace seqcnn
