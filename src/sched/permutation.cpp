#include "sched/permutation.hpp"

#include <cstddef>
#include <numeric>
#include <utility>

#include "common/philox.hpp"

namespace seqcnn::sched {

uint32_t scale_to_bound(uint64_t bits, uint32_t bound) {
  // 64 x 32 -> 96-bit product, keeping the top 32 bits, without __int128.
  const uint64_t high = (bits >> 32) * bound;
  const uint64_t low = (bits & 0xFFFFFFFFu) * bound;
  return static_cast<uint32_t>((high + (low >> 32)) >> 32);
}

void seeded_shuffle(std::vector<int32_t>& items, const ShuffleKey& key) {
  const auto k0 = static_cast<uint32_t>(key.seed), k1 = static_cast<uint32_t>(key.seed >> 32);
  // One Philox block per swap: counter = (step, purpose, epoch, stream).
  for (size_t i = items.size(); i > 1; --i) {
    const rng::Philox4 r = rng::philox4x32(static_cast<uint32_t>(i - 1), key.purpose, key.epoch,
                                           static_cast<uint32_t>(rng::Stream::Shuffle), k0, k1);
    const uint64_t bits = (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
    const uint32_t j = scale_to_bound(bits, static_cast<uint32_t>(i));
    std::swap(items[i - 1], items[j]);
  }
}

std::vector<int32_t> seeded_permutation(int32_t n, const ShuffleKey& key) {
  std::vector<int32_t> items(static_cast<size_t>(n < 0 ? 0 : n));
  std::iota(items.begin(), items.end(), 0);
  seeded_shuffle(items, key);
  return items;
}

}  // namespace seqcnn::sched
