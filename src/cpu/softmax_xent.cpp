// Softmax + masked cross-entropy + dlogits, one row at a time; the math and
// the meaning of row_scale are in softmax_xent.hpp.
#include "cpu/softmax_xent.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "cpu/row_chunks.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn::cpu {
namespace {

// Class-count bound for the per-row scratch kept on the stack; wider rows
// fall back to a heap buffer.
constexpr int kStackClasses = 64;

template <class T>
struct RowSoftmax {
  T max_logit;   // the shift; -inf only when every logit is -inf
  T log_sum;     // lse = max_logit + log_sum
  int argmax;    // first index of the largest logit
};

// exp_shifted[c] = exp(z_c - max) with exp(-inf) = 0. A row whose logits are
// all -inf has no defined softmax; it is treated as uniform so nothing below
// computes (-inf) - (-inf). Its loss is +inf through nll (see below).
template <class T>
RowSoftmax<T> shifted_exponentials(int classes, const T* z, T* exp_shifted) {
  RowSoftmax<T> s{z[0], T(0), 0};
  for (int c = 1; c < classes; ++c) {
    if (z[c] > s.max_logit) {
      s.max_logit = z[c];
      s.argmax = c;
    }
  }
  const bool all_minus_inf = s.max_logit == -std::numeric_limits<T>::infinity();
  T sum = T(0);
  for (int c = 0; c < classes; ++c) {
    exp_shifted[c] = all_minus_inf ? T(1) : std::exp(z[c] - s.max_logit);
    sum += exp_shifted[c];
  }
  s.log_sum = std::log(sum);
  for (int c = 0; c < classes; ++c) exp_shifted[c] /= sum;  // now the probabilities
  return s;
}

// -log p_c = lse - z_c, with a -inf logit giving +inf (not -inf - -inf).
template <class T>
T negative_log_probability(const RowSoftmax<T>& s, T z_c) {
  if (z_c == -std::numeric_limits<T>::infinity()) return std::numeric_limits<T>::infinity();
  return (s.max_logit - z_c) + s.log_sum;
}

}  // namespace

template <class T>
XentTotals softmax_xent(int64_t rows, int classes, const T* logits, const int32_t* labels, const T* row_scale,
                        const T* class_weights, T label_smoothing, T* dlogits) {
  for (int64_t r = 0; r < rows; ++r) {
    if (labels[r] >= classes) {
      throw InputError("softmax_xent: row " + std::to_string(r) + " has label " + std::to_string(labels[r]) +
                       ", expected a class in [0, " + std::to_string(classes) + ") or a negative ignore label");
    }
  }
  T weight_total = T(0);  // W = sum_c w_c
  for (int c = 0; c < classes; ++c) weight_total += class_weights ? class_weights[c] : T(1);
  const T eps = label_smoothing;
  const T one_minus_eps = T(1) - eps;
  const T eps_per_class = eps / static_cast<T>(classes);

  const int64_t chunks = chunk_count(0, rows, kReduceChunk);
  std::vector<XentTotals> partials(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const RowRange range = chunk_range(0, rows, kReduceChunk, chunk);
    T stack_probabilities[kStackClasses];
    std::vector<T> heap_probabilities(classes > kStackClasses ? static_cast<size_t>(classes) : 0);
    T* p = classes > kStackClasses ? heap_probabilities.data() : stack_probabilities;
    XentTotals totals;
    for (int64_t r = range.begin; r < range.end; ++r) {
      const T* z = logits + r * classes;
      T* dz = dlogits ? dlogits + r * classes : nullptr;
      const int32_t y = labels[r];
      const T scale = row_scale ? row_scale[r] : T(1);
      // Rows that do not count are selected away before any arithmetic, so
      // garbage or -inf logits there cannot leak into the loss or gradient.
      if (y < 0 || scale == T(0)) {
        if (dz) std::fill(dz, dz + classes, T(0));
        continue;
      }
      const RowSoftmax<T> s = shifted_exponentials(classes, z, p);
      ++totals.counted;
      if (s.argmax == y) ++totals.correct;

      // A term whose coefficient is 0 is skipped, never multiplied: 0 * inf = NaN.
      const T w_y = class_weights ? class_weights[y] : T(1);
      double row_loss = 0.0;
      if (one_minus_eps != T(0) && w_y != T(0)) {
        row_loss += static_cast<double>(one_minus_eps * w_y) * static_cast<double>(negative_log_probability(s, z[y]));
      }
      if (eps != T(0)) {
        double smoothed = 0.0;
        for (int c = 0; c < classes; ++c) {
          const T w_c = class_weights ? class_weights[c] : T(1);
          if (w_c != T(0)) smoothed += static_cast<double>(w_c) * static_cast<double>(negative_log_probability(s, z[c]));
        }
        row_loss += static_cast<double>(eps_per_class) * smoothed;
      }
      totals.loss += static_cast<double>(scale) * row_loss;

      if (!dz) continue;
      const T hard = scale * one_minus_eps * w_y;
      for (int c = 0; c < classes; ++c) dz[c] = hard * (p[c] - (c == y ? T(1) : T(0)));
      if (eps != T(0)) {
        const T soft = scale * eps_per_class;
        for (int c = 0; c < classes; ++c) {
          const T w_c = class_weights ? class_weights[c] : T(1);
          dz[c] += soft * (weight_total * p[c] - w_c);
        }
      }
    }
    partials[static_cast<size_t>(chunk)] = totals;
  }
  XentTotals totals;
  for (const XentTotals& part : partials) {  // chunk order: the sum does not depend on the threads
    totals.loss += part.loss;
    totals.counted += part.counted;
    totals.correct += part.correct;
  }
  return totals;
}

template <class T>
void softmax_forward(int64_t rows, int classes, const T* logits, T* probabilities) {
  const int64_t chunks = chunk_count(0, rows, kRowChunk);
#pragma omp parallel for schedule(static)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const RowRange range = chunk_range(0, rows, kRowChunk, chunk);
    for (int64_t r = range.begin; r < range.end; ++r) {
      shifted_exponentials(classes, logits + r * classes, probabilities + r * classes);
    }
  }
}

template XentTotals softmax_xent<float>(int64_t, int, const float*, const int32_t*, const float*, const float*,
                                        float, float*);
template XentTotals softmax_xent<double>(int64_t, int, const double*, const int32_t*, const double*, const double*,
                                         double, double*);
template void softmax_forward<float>(int64_t, int, const float*, float*);
template void softmax_forward<double>(int64_t, int, const double*, double*);

}  // namespace seqcnn::cpu
