// Conv1D forward with the fused epilogue, and the epilogue's backward.
// The convolution is an implicit GEMM: output rows x out-channels, reduced
// over (tap k, input channel i) with A[r][(k,i)] = x[r + k*d - padL][i] and
// B[(k,i)][o] = W[k][i][o] (the [K][I][O] layout is exactly that matrix).
#include "conv1d.hpp"

#include "check.hpp"
#include "conv1d_tile.cuh"

namespace seqcnn::cuda {
namespace {

using conv_detail::kTileK;
using conv_detail::kTileThreads;

template <int BM, int BN>
__global__ void __launch_bounds__(kTileThreads, 2)
    conv1d_forward_kernel(Conv1dShape shape, const float* __restrict__ x, const float* __restrict__ weight,
                          const float* __restrict__ bias, const uint8_t* __restrict__ row_is_real,
                          DropoutSpec dropout, const uint64_t* __restrict__ device_step, float* __restrict__ y) {
  __shared__ conv_detail::TileSlices<BM, BN> s;
  conv_detail::TileAccumulator<BM, BN> acc;
  acc.clear();
  const int in_ch = shape.in_channels, out_ch = shape.out_channels;
  const int64_t m0 = shape.first_row() + int64_t{blockIdx.x} * BM;
  const int64_t m_end = shape.end_row();
  const int n0 = static_cast<int>(blockIdx.y) * BN;
  const int tid = static_cast<int>(threadIdx.x), tx = tid % 16, ty = tid / 16;
  const int pad_left = shape.pad_left();

  for (int k = 0; k < shape.kernel; ++k) {
    const int64_t shift = int64_t{k} * shape.dilation - pad_left;
    const float* w_tap = weight + int64_t{k} * in_ch * out_ch;
    for (int i0 = 0; i0 < in_ch; i0 += kTileK) {
      // Consecutive threads read consecutive input channels of one row.
      for (int e = tid; e < BM * kTileK; e += kTileThreads) {
        const int kk = e % kTileK, m = e / kTileK;
        const int64_t row = m0 + m;
        const int i = i0 + kk;
        s.a[kk][m] = (row < m_end && i < in_ch) ? x[(row + shift) * in_ch + i] : 0.0f;
      }
      for (int e = tid; e < BN * kTileK; e += kTileThreads) {
        const int n = e % BN, kk = e / BN;
        const int i = i0 + kk, o = n0 + n;
        s.b[kk][n] = (i < in_ch && o < out_ch) ? w_tap[int64_t{i} * out_ch + o] : 0.0f;
      }
      __syncthreads();
      acc.multiply(s, tx, ty);
      __syncthreads();
    }
  }

  const uint64_t step = device_step != nullptr ? *device_step : dropout.step;
#pragma unroll
  for (int i = 0; i < BM / 16; ++i) {
    const int64_t row = m0 + ty + 16 * i;
    if (row >= m_end) continue;
    const bool real = row_is_real == nullptr || row_is_real[row] != 0;
#pragma unroll
    for (int j = 0; j < BN / 16; ++j) {
      const int o = n0 + tx + 16 * j;
      if (o >= out_ch) continue;
      y[row * out_ch + o] = conv_detail::conv_epilogue(bias[o] + acc.v[i][j], real, dropout, step, row, o);
    }
  }
}

__global__ void conv1d_bias_activation_kernel(Conv1dShape shape, const float* __restrict__ pre,
                                              const float* __restrict__ bias, const uint8_t* __restrict__ row_is_real,
                                              DropoutSpec dropout, float* __restrict__ y) {
  const int channels = shape.out_channels;
  const int64_t begin = shape.first_row() * channels, end = shape.end_row() * channels;
  for (int64_t idx = begin + blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < end;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t row = idx / channels;
    const int o = static_cast<int>(idx - row * channels);
    y[idx] = conv_detail::conv_epilogue(bias[o] + pre[idx], row_is_real == nullptr || row_is_real[row] != 0, dropout, dropout.step, row, o);
  }
}

// Selection, not multiplication: dy at gap rows may hold anything (even NaN
// or stale values) and must not leak.
__global__ void conv1d_epilogue_backward_kernel(int64_t total, int channels, const float* __restrict__ y,
                                                const float* __restrict__ dy, const uint8_t* __restrict__ row_is_real,
                                                float keep_scale, float* __restrict__ dpre) {
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t row = idx / channels;
    dpre[idx] = ((row_is_real == nullptr || row_is_real[row] != 0) && y[idx] > 0.0f) ? dy[idx] * keep_scale : 0.0f;
  }
}

template <int BM, int BN>
void launch_forward(const Conv1dShape& shape, const float* x, const float* weight, const float* bias,
                    const uint8_t* row_is_real, const DropoutSpec& dropout, float* y, cudaStream_t stream,
                    const uint64_t* device_step) {
  const int64_t out_rows = shape.end_row() - shape.first_row();
  const dim3 grid(grid_for(out_rows, BM, "conv1d_forward"), grid_for(shape.out_channels, BN, "conv1d_forward"));
  conv1d_forward_kernel<BM, BN>
      <<<grid, kTileThreads, 0, stream>>>(shape, x, weight, bias, row_is_real, dropout, device_step, y);
  CUDA_CHECK_LAUNCH();
}

constexpr int kBlock = 256;
constexpr long long kMaxGrid = 1LL << 20;

unsigned elementwise_grid(long long total, const char* what) {
  return grid_for(total < kMaxGrid * kBlock ? total : kMaxGrid * kBlock, kBlock, what);
}

}  // namespace

void conv1d_forward(const Conv1dShape& shape, const float* x, const float* weight, const float* bias,
                    const uint8_t* row_is_real, const DropoutSpec& dropout, float* y, cudaStream_t stream,
                    const uint64_t* device_dropout_step) {
  if (shape.end_row() <= shape.first_row() || shape.out_channels <= 0) return;
  // The tile's width follows the layer's so few threads idle on missing
  // channels; wider tiles do more multiply-adds per shared-memory load
  // (8 x 8 per thread at 128 x 128).
  if (shape.out_channels <= 32)
    launch_forward<128, 32>(shape, x, weight, bias, row_is_real, dropout, y, stream, device_dropout_step);
  else if (shape.out_channels <= 64)
    launch_forward<128, 64>(shape, x, weight, bias, row_is_real, dropout, y, stream, device_dropout_step);
  else
    launch_forward<128, 128>(shape, x, weight, bias, row_is_real, dropout, y, stream, device_dropout_step);
}

void conv1d_bias_activation(const Conv1dShape& shape, const float* pre, const float* bias,
                            const uint8_t* row_is_real, const DropoutSpec& dropout, float* y, cudaStream_t stream) {
  const long long total = (shape.end_row() - shape.first_row()) * shape.out_channels;
  if (total <= 0) return;
  conv1d_bias_activation_kernel<<<elementwise_grid(total, "conv1d_bias_activation"), kBlock, 0, stream>>>(
      shape, pre, bias, row_is_real, dropout, y);
  CUDA_CHECK_LAUNCH();
}

void conv1d_epilogue_backward(int64_t rows, int channels, const float* y, const float* dy,
                              const uint8_t* row_is_real, float keep_scale, float* dpre, cudaStream_t stream) {
  const long long total = rows * channels;
  if (total <= 0) return;
  conv1d_epilogue_backward_kernel<<<elementwise_grid(total, "conv1d_epilogue_backward"), kBlock, 0, stream>>>(
      total, channels, y, dy, row_is_real, keep_scale, dpre);
  CUDA_CHECK_LAUNCH();
}

}  // namespace seqcnn::cuda
