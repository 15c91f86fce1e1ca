#include "sched/scheduler.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "sched/batch.hpp"
#include "sched/packing.hpp"
#include "sched/permutation.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

namespace {

// Shuffle purposes within one epoch: the record order (or bucket b's order,
// kBucketPurpose + b) and the batch order.
constexpr uint32_t kRecordOrderPurpose = 0;
constexpr uint32_t kBatchOrderPurpose = 1;
constexpr uint32_t kBucketPurpose = 2;

std::vector<int64_t> record_lengths(const Dataset& data) {
  std::vector<int64_t> lengths;
  lengths.reserve(data.records.size());
  for (const Record& r : data.records) lengths.push_back(r.length());
  return lengths;
}

void check_fits_budget(const Dataset& data, const std::vector<int64_t>& lengths, int64_t budget_rows, int halo) {
  const auto longest = std::max_element(lengths.begin(), lengths.end());
  const int64_t minimum = *longest + 2 * static_cast<int64_t>(halo);
  if (minimum <= budget_rows) return;
  const auto index = static_cast<size_t>(longest - lengths.begin());
  throw ConfigError(data.source + ": record #" + std::to_string(index) + " '" + data.records[index].id + "' has " +
                    std::to_string(*longest) + " positions and cannot fit a batch of " + std::to_string(budget_rows) +
                    " rows; the row budget must be at least " + std::to_string(minimum) + " (longest + 2*halo, halo " +
                    std::to_string(halo) + ")");
}

// Groups of record indices: one group, or `buckets` equal-count groups of
// increasing length. Each group is shuffled, or in dataset order.
std::vector<std::vector<int32_t>> record_groups(const std::vector<int64_t>& lengths, int buckets, bool shuffle,
                                                uint64_t seed, uint32_t epoch) {
  const auto n = static_cast<int32_t>(lengths.size());
  std::vector<int32_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), 0);
  if (buckets <= 1) {
    if (shuffle) sched::seeded_shuffle(all, sched::ShuffleKey{seed, epoch, kRecordOrderPurpose});
    return {all};
  }
  std::stable_sort(all.begin(), all.end(), [&](int32_t a, int32_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::vector<int32_t>> groups;
  for (int b = 0; b < buckets; ++b) {
    const auto begin = static_cast<size_t>(static_cast<int64_t>(n) * b / buckets);
    const auto end = static_cast<size_t>(static_cast<int64_t>(n) * (b + 1) / buckets);
    if (begin == end) continue;
    std::vector<int32_t> group(all.begin() + static_cast<std::ptrdiff_t>(begin),
                               all.begin() + static_cast<std::ptrdiff_t>(end));
    if (shuffle) {
      sched::seeded_shuffle(group, sched::ShuffleKey{seed, epoch, kBucketPurpose + static_cast<uint32_t>(b)});
    } else {
      std::sort(group.begin(), group.end());
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

std::vector<std::vector<int32_t>> chunk_by_count(const std::vector<int32_t>& order, int per_batch) {
  std::vector<std::vector<int32_t>> batches;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(per_batch)) {
    const size_t end = std::min(order.size(), i + static_cast<size_t>(per_batch));
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i), order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return batches;
}

void shuffle_batches(std::vector<std::vector<int32_t>>& batches, uint64_t seed, uint32_t epoch) {
  const std::vector<int32_t> order =
      sched::seeded_permutation(static_cast<int32_t>(batches.size()), sched::ShuffleKey{seed, epoch, kBatchOrderPurpose});
  std::vector<std::vector<int32_t>> shuffled;
  shuffled.reserve(batches.size());
  for (int32_t i : order) shuffled.push_back(std::move(batches[static_cast<size_t>(i)]));
  batches = std::move(shuffled);
}

std::vector<int64_t> lengths_of(const std::vector<int32_t>& batch, const std::vector<int64_t>& lengths) {
  std::vector<int64_t> out;
  out.reserve(batch.size());
  for (int32_t r : batch) out.push_back(lengths[static_cast<size_t>(r)]);
  return out;
}

}  // namespace

EpochPlan plan_epoch(const Dataset& data, const BatchConfig& config, int halo, uint64_t seed, int epoch, bool shuffle) {
  if (halo < 0) throw ConfigError("halo must be >= 0, got " + std::to_string(halo));
  if (config.batch_sequences < 0 || config.batch_rows < 0)
    throw ConfigError("batch.sequences and batch.rows must be >= 0");
  if ((config.batch_sequences > 0) == (config.batch_rows > 0))
    throw ConfigError("set exactly one of batch.sequences (a sequence count) and batch.rows (a row budget)");
  if (config.buckets < 1) throw ConfigError("batch.buckets must be >= 1, got " + std::to_string(config.buckets));
  if (epoch < 0) throw ConfigError("epoch must be >= 0, got " + std::to_string(epoch));
  if (data.records.empty()) throw InputError(data.source + ": no records to plan batches from");

  const std::vector<int64_t> lengths = record_lengths(data);
  const bool by_rows = config.batch_rows > 0;
  if (by_rows) check_fits_budget(data, lengths, config.batch_rows, halo);

  const auto epoch_key = static_cast<uint32_t>(epoch);
  EpochPlan plan;
  for (const std::vector<int32_t>& group : record_groups(lengths, config.buckets, shuffle, seed, epoch_key)) {
    auto batches = by_rows ? sched::pack_by_rows(group, lengths, config.batch_rows, halo, config.layout)
                           : chunk_by_count(group, config.batch_sequences);
    for (auto& b : batches) plan.batches.push_back(std::move(b));
  }
  // Packing closes batches in an order that depends on their fill, and
  // buckets come out in length order: shuffle the batch order itself.
  if (shuffle && (by_rows || config.buckets > 1)) shuffle_batches(plan.batches, seed, epoch_key);

  for (const auto& batch : plan.batches) {
    const std::vector<int64_t> batch_lengths = lengths_of(batch, lengths);
    plan.real_rows += std::accumulate(batch_lengths.begin(), batch_lengths.end(), int64_t{0});
    // A row budget is a fixed buffer: all of it is computed.
    plan.computed_rows += by_rows ? config.batch_rows : rows_needed(batch_lengths, halo, config.layout);
  }
  return plan;
}

EpochPlan plan_eval(const Dataset& data, int64_t batch_rows, int halo) {
  if (halo < 0) throw ConfigError("halo must be >= 0, got " + std::to_string(halo));
  if (batch_rows <= 0) throw ConfigError("evaluation row budget must be > 0, got " + std::to_string(batch_rows));
  EpochPlan plan;
  sched::BatchFill fill;
  std::vector<int32_t> current;
  auto close = [&]() {
    if (current.empty()) return;
    plan.real_rows += fill.residues;
    plan.computed_rows += std::max(batch_rows, fill.rows(halo, BatchLayout::Packed));
    plan.batches.push_back(std::move(current));
    current.clear();
    fill = sched::BatchFill{};
  };
  for (size_t i = 0; i < data.records.size(); ++i) {
    const int64_t length = data.records[i].length();
    if (!current.empty() && fill.rows_with(length, halo, BatchLayout::Packed) > batch_rows) close();
    current.push_back(static_cast<int32_t>(i));
    fill.add(length);
  }
  close();
  return plan;
}

}  // namespace seqcnn
