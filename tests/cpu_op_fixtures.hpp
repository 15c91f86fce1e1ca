// Small builders for CPU op tests: packed/padded row layouts, per-sequence
// data scattered into them, and the convolution written straight from its
// definition (one sequence alone, zeros outside it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/op_math.hpp"
#include "sched/batch.hpp"
#include "seqcnn/dataset.hpp"

namespace seqcnn::testing {

struct RowLayout {
  int64_t rows = 0;
  int halo = 0;
  std::vector<int64_t> starts, lengths;
  std::vector<uint8_t> row_is_real;
};

// halo zero rows, then each sequence followed by `halo` zero rows (packed),
// or every sequence at a stride of padded_to + halo (padded_to > 0); then
// tail_rows more zero rows.
inline RowLayout make_layout(const std::vector<int64_t>& lengths, int halo, int64_t padded_to = 0,
                             int64_t tail_rows = 0) {
  RowLayout layout;
  layout.halo = halo;
  layout.lengths = lengths;
  int64_t row = halo;
  for (int64_t n : lengths) {
    layout.starts.push_back(row);
    row += (padded_to > 0 ? padded_to : n) + halo;
  }
  layout.rows = row + tail_rows;
  layout.row_is_real.assign(static_cast<size_t>(layout.rows), 0);
  for (size_t s = 0; s < lengths.size(); ++s)
    for (int64_t t = 0; t < lengths[s]; ++t) layout.row_is_real[static_cast<size_t>(layout.starts[s] + t)] = 1;
  return layout;
}

// rows x channels buffer holding seq_data[s] ([length][channels]) at each
// sequence's rows and `fill` everywhere else.
template <class T>
std::vector<T> scatter_rows(const RowLayout& layout, int channels, const std::vector<std::vector<T>>& seq_data,
                            T fill = T(0)) {
  std::vector<T> out(static_cast<size_t>(layout.rows * channels), fill);
  for (size_t s = 0; s < seq_data.size(); ++s)
    std::copy(seq_data[s].begin(), seq_data[s].end(), out.begin() + layout.starts[s] * channels);
  return out;
}

// The rows of sequence s, [length][channels].
template <class T>
std::vector<T> gather_rows(const RowLayout& layout, int channels, const std::vector<T>& buffer, size_t s) {
  const auto begin = buffer.begin() + layout.starts[s] * channels;
  return std::vector<T>(begin, begin + layout.lengths[s] * channels);
}

// pre[t][o] = b[o] + sum_k sum_i W[k][i][o] * x[t + k*d - padL][i], x = 0
// outside [0, n): the definition, for one sequence alone. W is [K][I][O].
inline std::vector<double> conv_by_definition(const std::vector<double>& x, int64_t n, int in, int out, int kernel,
                                              int dilation, const std::vector<double>& w,
                                              const std::vector<double>& bias) {
  const int pad_left = math::conv_pad_left(kernel, dilation);
  std::vector<double> pre(static_cast<size_t>(n * out));
  for (int64_t t = 0; t < n; ++t) {
    for (int o = 0; o < out; ++o) {
      double sum = bias.empty() ? 0.0 : bias[static_cast<size_t>(o)];
      for (int k = 0; k < kernel; ++k) {
        const int64_t src = t + int64_t{k} * dilation - pad_left;
        if (src < 0 || src >= n) continue;
        for (int i = 0; i < in; ++i)
          sum += w[static_cast<size_t>((k * in + i) * out + o)] * x[static_cast<size_t>(src * in + i)];
      }
      pre[static_cast<size_t>(t * out + o)] = sum;
    }
  }
  return pre;
}

inline std::vector<double> relu(std::vector<double> v) {
  for (double& x : v) x = std::max(x, 0.0);
  return v;
}

// A Batch over `layout` with these tokens and labels per sequence; gaps get
// pad_id and kIgnoreLabel.
inline Batch make_test_batch(const RowLayout& layout, const std::vector<std::vector<int32_t>>& tokens,
                             const std::vector<std::vector<int32_t>>& labels, int32_t pad_id) {
  Batch batch;
  batch.rows = layout.rows;
  batch.halo = layout.halo;
  batch.tokens.assign(static_cast<size_t>(layout.rows), pad_id);
  batch.labels.assign(static_cast<size_t>(layout.rows), kIgnoreLabel);
  batch.row_is_real = layout.row_is_real;
  for (size_t s = 0; s < tokens.size(); ++s) {
    std::copy(tokens[s].begin(), tokens[s].end(), batch.tokens.begin() + layout.starts[s]);
    std::copy(labels[s].begin(), labels[s].end(), batch.labels.begin() + layout.starts[s]);
    batch.sequences.push_back(SequenceSlot{layout.starts[s], layout.lengths[s], static_cast<int32_t>(s)});
  }
  return batch;
}

}  // namespace seqcnn::testing
