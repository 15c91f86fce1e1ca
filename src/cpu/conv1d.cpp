// Conv1D as K shifted GEMMs over the packed rows (W is [K][I][O]), with the
// epilogue fused per row chunk while the chunk is still in cache. The math
// is written out in conv1d.hpp.
#include "cpu/conv1d.hpp"

#include <algorithm>
#include <vector>

#include "common/op_math.hpp"
#include "cpu/gemm.hpp"
#include "cpu/row_chunks.hpp"
#include "cpu/select.hpp"

namespace seqcnn::cpu {
namespace {

// Row offset of the input row that tap k reads for output row r: r + shift.
int64_t tap_shift(const Conv1dShape& s, int k) { return int64_t{k} * s.dilation - s.pad_left(); }

// Below this many input channels one tap's GEMM has too short an inner
// dimension to run fast; the forward then gathers the K taps of each row side
// by side (im2col, one chunk at a time) and runs a single GEMM over K*I.
constexpr int64_t kGatherTapsBelowChannels = 64;

// Channel groups whose dropout masks are drawn in one vectorisable batch.
constexpr int kMaskGroups = 64;

// bias, ReLU, dropout, then non-real rows selected to exactly 0 (never a
// multiply by a mask, so a NaN or inf cannot survive on a gap row).
template <class T>
void conv_epilogue(const Conv1dShape& s, RowRange range, const T* bias, const uint8_t* row_is_real,
                   const DropoutSpec& dropout, T* y) {
  const int out = s.out_channels;
  const bool drop = dropout.drop_probability > 0.0f;
  const T keep_scale = static_cast<T>(dropout.keep_scale());
  for (int64_t r = range.begin; r < range.end; ++r) {
    T* __restrict__ y_row = y + r * out;
    if (row_is_real != nullptr && row_is_real[r] == 0) {
      std::fill(y_row, y_row + out, T(0));
      continue;
    }
    for (int o = 0; o < out; ++o) {
      const T pre = y_row[o] + bias[o];
      y_row[o] = pre < T(0) ? T(0) : pre;  // ReLU that lets a NaN through to the loss guard
    }
    if (!drop) continue;
    // One Philox draw per four channels (math::dropout_keep_mask4), drawn for
    // a block of groups at a time so the compiler can vectorise the rounds.
    for (int g0 = 0; 4 * g0 < out; g0 += kMaskGroups) {
      const int groups = std::min(kMaskGroups, (out + 3) / 4 - g0);
      uint32_t keep[kMaskGroups];
#pragma omp simd
      for (int g = 0; g < groups; ++g) {
        keep[g] = math::dropout_keep_mask4(dropout.seed, dropout.step, dropout.layer, static_cast<uint32_t>(r),
                                           static_cast<uint32_t>(g0 + g), dropout.drop_probability);
      }
      const int o0 = 4 * g0, o1 = std::min(out, o0 + 4 * kMaskGroups);
      for (int o = o0; o < o1; ++o) {
        const bool kept = ((keep[(o - o0) >> 2] >> ((o - o0) & 3)) & 1u) != 0;
        y_row[o] = select_or_zero(kept, y_row[o] * keep_scale);
      }
    }
  }
}

}  // namespace

template <class T>
void conv1d_forward(const Conv1dShape& s, const T* x, const T* weight, const T* bias, const uint8_t* row_is_real,
                    const DropoutSpec& dropout, T* y) {
  const int64_t first = s.first_row(), end = s.end_row();
  const int64_t in = s.in_channels, out = s.out_channels;
  const int64_t chunks = chunk_count(first, end, kRowChunk);
  const bool gather_taps = s.kernel > 1 && in < kGatherTapsBelowChannels;
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < chunks; ++c) {
    const RowRange range = chunk_range(first, end, kRowChunk, c);
    if (gather_taps) {
      // columns[r][k][i] = x[r + shift_k][i]; then y = columns * W with W
      // read as one (K*I) x O matrix.
      const int64_t width = s.kernel * in;
      thread_local std::vector<T> columns;
      columns.resize(static_cast<size_t>(range.size() * width));
      for (int64_t r = range.begin; r < range.end; ++r) {
        T* row = columns.data() + (r - range.begin) * width;
        for (int k = 0; k < s.kernel; ++k) {
          const T* src = x + (r + tap_shift(s, k)) * in;
          std::copy(src, src + in, row + k * in);
        }
      }
      gemm(Transpose::No, Transpose::No, range.size(), out, width, T(1), columns.data(), width, weight, out, T(0),
           y + range.begin * out, out);
    } else {
      for (int k = 0; k < s.kernel; ++k) {
        gemm(Transpose::No, Transpose::No, range.size(), out, in, T(1), x + (range.begin + tap_shift(s, k)) * in,
             in, weight + k * in * out, out, k == 0 ? T(0) : T(1), y + range.begin * out, out);
      }
    }
    conv_epilogue(s, range, bias, row_is_real, dropout, y);
  }
}

template <class T>
void conv1d_epilogue_backward(int64_t rows, int channels, const T* y, const T* dy, const uint8_t* row_is_real,
                              T keep_scale, T* dpre) {
  const int64_t chunks = chunk_count(0, rows, kRowChunk);
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < chunks; ++c) {
    const RowRange range = chunk_range(0, rows, kRowChunk, c);
    for (int64_t r = range.begin; r < range.end; ++r) {
      T* __restrict__ d_row = dpre + r * channels;
      if (row_is_real != nullptr && row_is_real[r] == 0) {
        std::fill(d_row, d_row + channels, T(0));
        continue;
      }
      const T* __restrict__ y_row = y + r * channels;
      const T* __restrict__ dy_row = dy + r * channels;
      // y > 0 means ReLU passed and dropout kept the element.
      for (int o = 0; o < channels; ++o) d_row[o] = select_or_zero(y_row[o] > T(0), dy_row[o] * keep_scale);
    }
  }
}

template <class T>
void conv1d_backward_data(const Conv1dShape& s, const T* weight, const T* dpre, T* dx) {
  const int64_t first = s.first_row(), end = s.end_row();
  const int64_t in = s.in_channels, out = s.out_channels;
  const int64_t chunks = chunk_count(first, end, kRowChunk);
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < chunks; ++c) {
    const RowRange range = chunk_range(first, end, kRowChunk, c);
    // dx[r] = sum_k dpre[r - shift_k] * W_k^T
    for (int k = 0; k < s.kernel; ++k) {
      gemm(Transpose::No, Transpose::Yes, range.size(), in, out, T(1), dpre + (range.begin - tap_shift(s, k)) * out,
           out, weight + k * in * out, out, k == 0 ? T(0) : T(1), dx + range.begin * in, in);
    }
  }
}

template <class T>
void conv1d_backward_weight(const Conv1dShape& s, const T* x, const T* dpre, T* dweight, T* dbias) {
  const int64_t first = s.first_row(), end = s.end_row();
  const int64_t in = s.in_channels, out = s.out_channels;
  const int64_t weight_size = s.kernel * in * out;
  const int64_t partial_size = weight_size + out;  // [K][I][O] then [O]
  const int64_t chunks = chunk_count(first, end, kReduceChunk);
  if (chunks == 0) return;
  thread_local std::vector<T> partials;
  partials.resize(static_cast<size_t>(chunks * partial_size));
  T* const all_partials = partials.data();
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < chunks; ++c) {
    const RowRange range = chunk_range(first, end, kReduceChunk, c);
    T* partial = all_partials + c * partial_size;
    for (int k = 0; k < s.kernel; ++k) {
      // dW_k = x[rows + shift_k]^T * dpre[rows]
      gemm(Transpose::Yes, Transpose::No, in, out, range.size(), T(1), x + (range.begin + tap_shift(s, k)) * in, in,
           dpre + range.begin * out, out, T(0), partial + k * in * out, out);
    }
    T* __restrict__ bias_partial = partial + weight_size;
    std::fill(bias_partial, bias_partial + out, T(0));
    for (int64_t r = range.begin; r < range.end; ++r) {
      const T* d_row = dpre + r * out;
      for (int64_t o = 0; o < out; ++o) bias_partial[o] += d_row[o];
    }
  }
  add_partials_in_order(chunks, weight_size, partial_size, all_partials, dweight);
  add_partials_in_order(chunks, out, partial_size, all_partials + weight_size, dbias);
}

template void conv1d_forward<float>(const Conv1dShape&, const float*, const float*, const float*, const uint8_t*,
                                    const DropoutSpec&, float*);
template void conv1d_forward<double>(const Conv1dShape&, const double*, const double*, const double*,
                                     const uint8_t*, const DropoutSpec&, double*);
template void conv1d_epilogue_backward<float>(int64_t, int, const float*, const float*, const uint8_t*, float,
                                              float*);
template void conv1d_epilogue_backward<double>(int64_t, int, const double*, const double*, const uint8_t*, double,
                                               double*);
template void conv1d_backward_data<float>(const Conv1dShape&, const float*, const float*, float*);
template void conv1d_backward_data<double>(const Conv1dShape&, const double*, const double*, double*);
template void conv1d_backward_weight<float>(const Conv1dShape&, const float*, const float*, float*, float*);
template void conv1d_backward_weight<double>(const Conv1dShape&, const double*, const double*, double*, double*);

}  // namespace seqcnn::cpu
