#include "bench_data.hpp"

#include <algorithm>
#include <random>

namespace seqcnn::bench {

RowPattern make_row_pattern(int64_t rows, int halo, int vocab, int classes, uint64_t seed) {
  RowPattern p;
  const auto n = static_cast<size_t>(rows);
  p.row_is_real.assign(n, 0);
  p.tokens.assign(n, 0);
  p.labels.assign(n, -1);
  p.row_scale.assign(n, 0.0f);
  std::mt19937_64 rng(seed);
  // Log-uniform-ish lengths: two uniform draws averaged give a hump near the middle.
  std::uniform_int_distribution<int64_t> length_draw(30, 450);
  std::uniform_int_distribution<int32_t> token_draw(1, std::max(1, vocab - 1));
  std::uniform_int_distribution<int32_t> class_draw(0, std::max(0, classes - 1));
  std::uniform_int_distribution<int> percent(0, 99);
  const int64_t gap = std::max(1, halo);
  int64_t r = halo;
  int64_t counted = 0;
  while (true) {
    const int64_t length = (length_draw(rng) + length_draw(rng)) / 2 + (percent(rng) < 10 ? 150 : 0);
    if (r + length + halo > rows) break;
    for (int64_t i = r; i < r + length; ++i) {
      const auto u = static_cast<size_t>(i);
      p.row_is_real[u] = 1;
      p.tokens[u] = vocab > 1 ? token_draw(rng) : 0;
      if (classes > 0 && percent(rng) >= 5) {
        p.labels[u] = class_draw(rng);
        ++counted;
      }
    }
    r += length + gap;
  }
  const float scale = counted > 0 ? 1.0f / static_cast<float>(counted) : 0.0f;
  for (size_t i = 0; i < n; ++i)
    if (p.labels[i] >= 0) p.row_scale[i] = scale;
  return p;
}

std::vector<float> random_values(int64_t n, float scale, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> draw(-scale, scale);
  for (float& x : v) x = draw(rng);
  return v;
}

}  // namespace seqcnn::bench
