// Device building blocks shared by the Conv1D kernels: a BM x BN output tile
// computed by 256 threads from shared-memory slices of kTileK reduction
// steps (the convolution as an implicit GEMM over taps and channels), and
// the forward epilogue.
#pragma once

#include <cstdint>

#include "common/conv_shape.hpp"
#include "common/op_math.hpp"

namespace seqcnn::cuda::conv_detail {

constexpr int kTileK = 16;
constexpr int kTileThreads = 256;

// +4 columns of padding keep the transposed stores from piling onto one bank.
template <int BM, int BN>
struct TileSlices {
  float a[kTileK][BM + 4];  // a[kk][m]: reduction step kk of output row m
  float b[kTileK][BN + 4];  // b[kk][n]: reduction step kk of output column n
};

// Thread (tx, ty) of a 16 x 16 grid owns rows ty + 16*i and columns tx + 16*j.
template <int BM, int BN>
struct TileAccumulator {
  static constexpr int kRows = BM / 16;
  static constexpr int kCols = BN / 16;
  float v[kRows][kCols];

  __device__ void clear() {
#pragma unroll
    for (int i = 0; i < kRows; ++i)
#pragma unroll
      for (int j = 0; j < kCols; ++j) v[i][j] = 0.0f;
  }

  // One fused multiply-add per reduction step, in order: each output is a
  // sequential sum whose order depends only on the shape.
  __device__ void multiply(const TileSlices<BM, BN>& s, int tx, int ty) {
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      float a[kRows], b[kCols];
#pragma unroll
      for (int i = 0; i < kRows; ++i) a[i] = s.a[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < kCols; ++j) b[j] = s.b[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < kRows; ++i)
#pragma unroll
        for (int j = 0; j < kCols; ++j) v[i][j] = fmaf(a[i], b[j], v[i][j]);
    }
  }
};

// ReLU (a NaN passes through, so the non-finite guard sees it), dropout, then
// non-real rows selected to exactly 0; the same steps as the CPU epilogue.
__device__ __forceinline__ float conv_epilogue(float pre, bool row_real, const DropoutSpec& dropout, uint64_t step,
                                               int64_t row, int channel) {
  if (!row_real) return 0.0f;
  float value = pre < 0.0f ? 0.0f : pre;
  if (dropout.drop_probability > 0.0f) {
    const bool keep = math::dropout_keep(dropout.seed, step, dropout.layer, static_cast<uint32_t>(row),
                                         static_cast<uint32_t>(channel), dropout.drop_probability);
    value = keep ? value * dropout.keep_scale() : 0.0f;
  }
  return value;
}

}  // namespace seqcnn::cuda::conv_detail
