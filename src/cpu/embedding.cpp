// Embedding lookup and its gradient; the math is in embedding.hpp.
#include "cpu/embedding.hpp"

#include <omp.h>

#include <algorithm>
#include <string>

#include "cpu/row_chunks.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn::cpu {
namespace {

// Column blocks of the backward pass are multiples of this (one cache line).
constexpr int kColumnAlign = 16;

bool row_learns(const int32_t* tokens, const uint8_t* row_is_real, int64_t r, int pad_id) {
  return (row_is_real == nullptr || row_is_real[r] != 0) && tokens[r] != pad_id;
}

}  // namespace

template <class T>
void embedding_forward(const int32_t* tokens, const uint8_t* row_is_real, int64_t rows, const T* table, int dim,
                       int pad_id, T* out) {
  const int64_t chunks = chunk_count(0, rows, kRowChunk);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const RowRange range = chunk_range(0, rows, kRowChunk, c);
    for (int64_t r = range.begin; r < range.end; ++r) {
      T* out_row = out + r * dim;
      // Gap rows and the pad id give exactly 0, whatever the pad row holds.
      if (row_learns(tokens, row_is_real, r, pad_id)) {
        const T* src = table + int64_t{tokens[r]} * dim;
        std::copy(src, src + dim, out_row);
      } else {
        std::fill(out_row, out_row + dim, T(0));
      }
    }
  }
}

template <class T>
void embedding_backward(const int32_t* tokens, const uint8_t* row_is_real, int64_t rows, const T* dout, int dim,
                        int vocab, int pad_id, T* dtable) {
  // Ids were checked when the batch was built; this cheap pass keeps a bad
  // caller from writing outside the table.
  for (int64_t r = 0; r < rows; ++r) {
    if (row_learns(tokens, row_is_real, r, pad_id) && (tokens[r] < 0 || tokens[r] >= vocab)) {
      throw InputError("embedding_backward: row " + std::to_string(r) + " holds token id " +
                       std::to_string(tokens[r]) + ", expected an id in [0, " + std::to_string(vocab) + ")");
    }
  }
  // Threads split the columns, never the rows: every table element sums its
  // rows in row order, so the result is the same for any thread count. One
  // wide block per thread: each pass over the rows then reads long runs of
  // dout, which the prefetcher follows (narrow blocks made a strided pass
  // per 16 columns).
  const int aligned = (dim + kColumnAlign - 1) / kColumnAlign;
  const int blocks = std::max(1, std::min(aligned, omp_get_max_threads()));
  const int block_width = (aligned + blocks - 1) / blocks * kColumnAlign;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < blocks; ++b) {
    const int e0 = std::min(dim, b * block_width), e1 = std::min(dim, e0 + block_width);
    for (int64_t r = 0; r < rows; ++r) {
      if (!row_learns(tokens, row_is_real, r, pad_id)) continue;
      T* __restrict__ dst = dtable + int64_t{tokens[r]} * dim;
      const T* __restrict__ src = dout + r * dim;
      for (int e = e0; e < e1; ++e) dst[e] += src[e];
    }
  }
}

template void embedding_forward<float>(const int32_t*, const uint8_t*, int64_t, const float*, int, int, float*);
template void embedding_forward<double>(const int32_t*, const uint8_t*, int64_t, const double*, int, int, double*);
template void embedding_backward<float>(const int32_t*, const uint8_t*, int64_t, const float*, int, int, int,
                                        float*);
template void embedding_backward<double>(const int32_t*, const uint8_t*, int64_t, const double*, int, int, int,
                                         double*);

}  // namespace seqcnn::cpu
