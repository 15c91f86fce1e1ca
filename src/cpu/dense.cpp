// Dense layer as GEMMs over fixed row chunks; the math is in dense.hpp.
#include "cpu/dense.hpp"

#include <algorithm>
#include <vector>

#include "cpu/gemm.hpp"
#include "cpu/row_chunks.hpp"

namespace seqcnn::cpu {

template <class T>
void dense_forward(int64_t rows, int in_features, int classes, const T* h, const T* weight, const T* bias,
                   T* logits) {
  const int64_t chunks = chunk_count(0, rows, kRowChunk);
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < chunks; ++c) {
    const RowRange range = chunk_range(0, rows, kRowChunk, c);
    // logits[rows] = h[rows] * W^T, then + b
    gemm(Transpose::No, Transpose::Yes, range.size(), classes, in_features, T(1), h + range.begin * in_features,
         in_features, weight, in_features, T(0), logits + range.begin * classes, classes);
    for (int64_t r = range.begin; r < range.end; ++r) {
      T* __restrict__ row = logits + r * classes;
      for (int k = 0; k < classes; ++k) row[k] += bias[k];
    }
  }
}

template <class T>
void dense_backward(int64_t rows, int in_features, int classes, const T* h, const T* weight, const T* dlogits,
                    T* dh, T* dweight, T* dbias) {
  const int64_t row_chunks = chunk_count(0, rows, kRowChunk);
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < row_chunks; ++c) {
    const RowRange range = chunk_range(0, rows, kRowChunk, c);
    // dh[rows] = dlogits[rows] * W
    gemm(Transpose::No, Transpose::No, range.size(), in_features, classes, T(1), dlogits + range.begin * classes,
         classes, weight, in_features, T(0), dh + range.begin * in_features, in_features);
  }

  const int64_t weight_size = int64_t{classes} * in_features;
  const int64_t partial_size = weight_size + classes;  // [C][J] then [C]
  const int64_t chunks = chunk_count(0, rows, kReduceChunk);
  if (chunks == 0) return;
  thread_local std::vector<T> partials;
  partials.resize(static_cast<size_t>(chunks * partial_size));
  T* const all_partials = partials.data();
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < chunks; ++c) {
    const RowRange range = chunk_range(0, rows, kReduceChunk, c);
    T* partial = all_partials + c * partial_size;
    // dW = dlogits[rows]^T * h[rows]
    gemm(Transpose::Yes, Transpose::No, classes, in_features, range.size(), T(1), dlogits + range.begin * classes,
         classes, h + range.begin * in_features, in_features, T(0), partial, in_features);
    T* __restrict__ bias_partial = partial + weight_size;
    std::fill(bias_partial, bias_partial + classes, T(0));
    for (int64_t r = range.begin; r < range.end; ++r) {
      const T* d_row = dlogits + r * classes;
      for (int k = 0; k < classes; ++k) bias_partial[k] += d_row[k];
    }
  }
  add_partials_in_order(chunks, weight_size, partial_size, all_partials, dweight);
  add_partials_in_order(chunks, int64_t{classes}, partial_size, all_partials + weight_size, dbias);
}

template void dense_forward<float>(int64_t, int, int, const float*, const float*, const float*, float*);
template void dense_forward<double>(int64_t, int, int, const double*, const double*, const double*, double*);
template void dense_backward<float>(int64_t, int, int, const float*, const float*, const float*, float*, float*,
                                    float*);
template void dense_backward<double>(int64_t, int, int, const double*, const double*, const double*, double*,
                                     double*, double*);

}  // namespace seqcnn::cpu
