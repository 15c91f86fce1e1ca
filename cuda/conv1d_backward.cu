// Conv1D backward: data gradient (an implicit GEMM over (tap, out-channel))
// and weight gradient (an implicit GEMM over rows, split into fixed row
// chunks whose partial results are summed in a fixed order: no atomics).
#include <algorithm>

#include "check.hpp"
#include "conv1d.hpp"
#include "conv1d_tile.cuh"
#include "reduce.hpp"

namespace seqcnn::cuda {
namespace {

using conv_detail::kTileK;
using conv_detail::kTileThreads;
constexpr int kTile = 64;

// dx[r][i] = sum_k sum_o dpre[r - k*d + padL][o] * W[k][i][o]: rows x I,
// reduced over (k, o). Reads stay inside the buffer because halo >= reach.
__global__ void __launch_bounds__(kTileThreads)
    conv1d_backward_data_kernel(Conv1dShape shape, const float* __restrict__ weight, const float* __restrict__ dpre,
                                float* __restrict__ dx) {
  __shared__ conv_detail::TileSlices<kTile, kTile> s;
  conv_detail::TileAccumulator<kTile, kTile> acc;
  acc.clear();
  const int in_ch = shape.in_channels, out_ch = shape.out_channels;
  const int64_t m0 = shape.first_row() + int64_t{blockIdx.x} * kTile;
  const int64_t m_end = shape.end_row();
  const int n0 = static_cast<int>(blockIdx.y) * kTile;
  const int tid = static_cast<int>(threadIdx.x), tx = tid % 16, ty = tid / 16;
  const int pad_left = shape.pad_left();

  for (int k = 0; k < shape.kernel; ++k) {
    const int64_t shift = pad_left - int64_t{k} * shape.dilation;
    const float* w_tap = weight + int64_t{k} * in_ch * out_ch;
    for (int o0 = 0; o0 < out_ch; o0 += kTileK) {
      for (int e = tid; e < kTile * kTileK; e += kTileThreads) {
        const int kk = e % kTileK, m = e / kTileK;
        const int64_t row = m0 + m;
        const int o = o0 + kk;
        s.a[kk][m] = (row < m_end && o < out_ch) ? dpre[(row + shift) * out_ch + o] : 0.0f;
      }
      // W[k][i][o] is contiguous in o: consecutive threads take consecutive o.
      for (int e = tid; e < kTile * kTileK; e += kTileThreads) {
        const int kk = e % kTileK, n = e / kTileK;
        const int o = o0 + kk, i = n0 + n;
        s.b[kk][n] = (o < out_ch && i < in_ch) ? w_tap[int64_t{i} * out_ch + o] : 0.0f;
      }
      __syncthreads();
      acc.multiply(s, tx, ty);
      __syncthreads();
    }
  }
#pragma unroll
  for (int i = 0; i < kTile / 16; ++i) {
    const int64_t row = m0 + ty + 16 * i;
    if (row >= m_end) continue;
#pragma unroll
    for (int j = 0; j < kTile / 16; ++j) {
      const int col = n0 + tx + 16 * j;
      if (col < in_ch) dx[row * in_ch + col] = acc.v[i][j];
    }
  }
}

// Rows of the weight-gradient GEMM are the flattened (k, i) pairs, columns
// the output channels; block z reduces row chunk z. With one chunk the
// result goes straight into dW (+=), else into partials[z].
__global__ void __launch_bounds__(kTileThreads)
    conv1d_backward_weight_kernel(Conv1dShape shape, const float* __restrict__ x, const float* __restrict__ dpre,
                                  int64_t chunk_rows, float* __restrict__ partials, float* __restrict__ dweight) {
  __shared__ conv_detail::TileSlices<kTile, kTile> s;
  conv_detail::TileAccumulator<kTile, kTile> acc;
  acc.clear();
  const int in_ch = shape.in_channels, out_ch = shape.out_channels;
  const int taps_by_in = shape.kernel * in_ch;
  const int m0 = static_cast<int>(blockIdx.x) * kTile;
  const int n0 = static_cast<int>(blockIdx.y) * kTile;
  const int64_t r_begin = shape.first_row() + int64_t{blockIdx.z} * chunk_rows;
  const int64_t r_end = std::min(r_begin + chunk_rows, shape.end_row());
  const int tid = static_cast<int>(threadIdx.x), tx = tid % 16, ty = tid / 16;

  // kTileThreads is a multiple of kTile, so each thread always loads the
  // same (k, i) column of the A slice: resolve it once.
  const int a_m = tid % kTile;
  const int a_flat = m0 + a_m;
  const bool a_valid = a_flat < taps_by_in;
  const int a_k = a_valid ? a_flat / in_ch : 0;
  const int a_i = a_valid ? a_flat - a_k * in_ch : 0;
  const int64_t a_shift = int64_t{a_k} * shape.dilation - shape.pad_left();

  for (int64_t r0 = r_begin; r0 < r_end; r0 += kTileK) {
    for (int e = tid; e < kTile * kTileK; e += kTileThreads) {
      const int rr = e / kTile;
      const int64_t row = r0 + rr;
      s.a[rr][a_m] = (a_valid && row < r_end) ? x[(row + a_shift) * in_ch + a_i] : 0.0f;
    }
    for (int e = tid; e < kTile * kTileK; e += kTileThreads) {
      const int n = e % kTile, rr = e / kTile;
      const int64_t row = r0 + rr;
      const int o = n0 + n;
      s.b[rr][n] = (row < r_end && o < out_ch) ? dpre[row * out_ch + o] : 0.0f;
    }
    __syncthreads();
    acc.multiply(s, tx, ty);
    __syncthreads();
  }
  float* target = partials != nullptr ? partials + int64_t{blockIdx.z} * taps_by_in * out_ch : dweight;
#pragma unroll
  for (int i = 0; i < kTile / 16; ++i) {
    const int flat = m0 + ty + 16 * i;
    if (flat >= taps_by_in) continue;
#pragma unroll
    for (int j = 0; j < kTile / 16; ++j) {
      const int o = n0 + tx + 16 * j;
      if (o >= out_ch) continue;
      float& out = target[int64_t{flat} * out_ch + o];
      out = partials != nullptr ? acc.v[i][j] : out + acc.v[i][j];
    }
  }
}

__global__ void sum_partials_kernel(int64_t count, int chunks, const float* __restrict__ partials,
                                    float* __restrict__ dst) {
  const int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (j >= count) return;
  float sum = 0.0f;
  for (int c = 0; c < chunks; ++c) sum += partials[c * count + j];
  dst[j] += sum;
}

// Row chunks for the weight gradient: enough blocks to fill a large GPU,
// at least kMinChunkRows rows each. A function of the shape alone, so the
// summation order (and the result) is the same on every device.
constexpr int kTargetBlocks = 1024;
constexpr int64_t kMinChunkRows = 64;

struct WeightChunks {
  int count = 1;
  int64_t rows = 0;
};

WeightChunks weight_chunks(const Conv1dShape& shape) {
  const int64_t out_rows = shape.end_row() - shape.first_row();
  const int64_t tiles = ((int64_t{shape.kernel} * shape.in_channels + kTile - 1) / kTile) *
                        ((shape.out_channels + kTile - 1) / kTile);
  int64_t count = std::max<int64_t>(1, (kTargetBlocks + tiles - 1) / tiles);
  count = std::min(count, std::max<int64_t>(1, out_rows / kMinChunkRows));
  count = std::min<int64_t>(count, 65535);
  WeightChunks chunks;
  chunks.rows = (out_rows + count - 1) / count;
  chunks.rows = (chunks.rows + kTileK - 1) / kTileK * kTileK;
  chunks.count = static_cast<int>((out_rows + chunks.rows - 1) / chunks.rows);
  return chunks;
}

struct WeightScratch {
  float* partials = nullptr;
  Workspace bias;
};

WeightScratch carve_weight(WorkspaceCarver& carver, const Conv1dShape& shape, const WeightChunks& chunks) {
  WeightScratch s;
  if (chunks.count > 1)
    s.partials = carver.take<float>(static_cast<std::size_t>(chunks.count) * shape.kernel * shape.in_channels *
                                    shape.out_channels);
  const int64_t out_rows = shape.end_row() - shape.first_row();
  s.bias.bytes = column_sums_workspace_bytes(out_rows, shape.out_channels);
  s.bias.data = carver.take<char>(s.bias.bytes);
  return s;
}

}  // namespace

void conv1d_backward_data(const Conv1dShape& shape, const float* weight, const float* dpre, float* dx,
                          cudaStream_t stream) {
  const int64_t out_rows = shape.end_row() - shape.first_row();
  if (out_rows <= 0 || shape.in_channels <= 0) return;
  const dim3 grid(grid_for(out_rows, kTile, "conv1d_backward_data"),
                  grid_for(shape.in_channels, kTile, "conv1d_backward_data"));
  conv1d_backward_data_kernel<<<grid, kTileThreads, 0, stream>>>(shape, weight, dpre, dx);
  CUDA_CHECK_LAUNCH();
}

std::size_t conv1d_backward_weight_workspace_bytes(const Conv1dShape& shape) {
  if (shape.end_row() <= shape.first_row()) return 0;
  WorkspaceCarver carver(Workspace{}, "conv1d_backward_weight");
  carve_weight(carver, shape, weight_chunks(shape));
  return carver.used();
}

void conv1d_backward_weight(const Conv1dShape& shape, const float* x, const float* dpre, float* dweight,
                            float* dbias, Workspace workspace, cudaStream_t stream) {
  const int64_t out_rows = shape.end_row() - shape.first_row();
  if (out_rows <= 0) return;
  const WeightChunks chunks = weight_chunks(shape);
  WorkspaceCarver carver(workspace, "conv1d_backward_weight");
  const WeightScratch s = carve_weight(carver, shape, chunks);
  const int64_t weight_count = int64_t{shape.kernel} * shape.in_channels * shape.out_channels;
  const dim3 grid(grid_for(int64_t{shape.kernel} * shape.in_channels, kTile, "conv1d_backward_weight"),
                  grid_for(shape.out_channels, kTile, "conv1d_backward_weight"), static_cast<unsigned>(chunks.count));
  conv1d_backward_weight_kernel<<<grid, kTileThreads, 0, stream>>>(shape, x, dpre, chunks.rows, s.partials, dweight);
  CUDA_CHECK_LAUNCH();
  if (s.partials != nullptr) {
    sum_partials_kernel<<<grid_for(weight_count, 256, "conv1d_backward_weight"), 256, 0, stream>>>(
        weight_count, chunks.count, s.partials, dweight);
    CUDA_CHECK_LAUNCH();
  }
  column_sums_accumulate(out_rows, shape.out_channels, dpre + shape.first_row() * shape.out_channels, dbias,
                         s.bias, stream);
}

}  // namespace seqcnn::cuda
