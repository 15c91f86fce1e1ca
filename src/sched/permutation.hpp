// Seeded shuffles for the batch scheduler, built on the Philox generator
// rather than std::shuffle, whose results differ between standard
// libraries: a plan is a pure function of (seed, epoch, purpose).
#pragma once

#include <cstdint>
#include <vector>

namespace seqcnn::sched {

// floor(bits * bound / 2^64): a uniform integer in [0, bound) from 64 random
// bits; the bias is below bound / 2^64.
uint32_t scale_to_bound(uint64_t bits, uint32_t bound);

// What a shuffle is for, so the shuffles of one epoch draw independent numbers.
struct ShuffleKey {
  uint64_t seed = 0;
  uint32_t epoch = 0;
  uint32_t purpose = 0;
};

// Fisher-Yates shuffle of `items` in place, driven by Philox draws keyed by `key`.
void seeded_shuffle(std::vector<int32_t>& items, const ShuffleKey& key);

// A seeded permutation of 0 .. n-1.
std::vector<int32_t> seeded_permutation(int32_t n, const ShuffleKey& key);

}  // namespace seqcnn::sched
