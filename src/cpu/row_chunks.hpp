// Fixed-size row chunks: the unit of parallel work in every CPU op. Chunk
// boundaries depend only on the row count, never on the thread count, and
// per-chunk partial sums are added in chunk order, so results are bitwise
// identical for any number of OpenMP threads.
#pragma once

#include <algorithm>
#include <cstdint>

namespace seqcnn::cpu {

// Rows per chunk for work whose outputs are per row (GEMM rows, epilogues).
inline constexpr int64_t kRowChunk = 256;
// Rows per chunk for reductions over rows (weight and bias gradients, loss):
// larger, so each partial GEMM has a long inner dimension.
inline constexpr int64_t kReduceChunk = 1024;

struct RowRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};

inline int64_t chunk_count(int64_t first, int64_t end, int64_t chunk) {
  return end > first ? (end - first + chunk - 1) / chunk : 0;
}

inline RowRange chunk_range(int64_t first, int64_t end, int64_t chunk, int64_t index) {
  const int64_t begin = first + index * chunk;
  return RowRange{begin, std::min(end, begin + chunk)};
}

}  // namespace seqcnn::cpu

namespace seqcnn::cpu {

// out[e] += sum over chunks c, in order, of partials[c * stride + e] for e
// in [0, size). Each element's sum has the same order whichever thread
// computes it.
template <class T>
void add_partials_in_order(int64_t chunks, int64_t size, int64_t stride, const T* partials, T* out) {
#pragma omp parallel for schedule(static)
  for (int64_t e = 0; e < size; ++e) {
    T total = partials[e];
    for (int64_t c = 1; c < chunks; ++c) total += partials[c * stride + e];
    out[e] += total;
  }
}

}  // namespace seqcnn::cpu
