// AdamW over the flat parameter buffer; the per-element update is
// math::adamw_element, shared with the CUDA kernel.
#include "cpu/adamw.hpp"

#include <cmath>
#include <vector>

#include "common/op_math.hpp"
#include "cpu/row_chunks.hpp"

namespace seqcnn::cpu {
namespace {

// Elements per partial sum in sum_of_squares.
constexpr int64_t kSquaresChunk = 16384;

}  // namespace

template <class T>
void adamw_update(int64_t n, T* params, const T* grads, T* m, T* v, const AdamWHyper& hyper) {
  const double t = static_cast<double>(hyper.step);
  const T lr = static_cast<T>(hyper.lr);
  const T beta1 = static_cast<T>(hyper.beta1), beta2 = static_cast<T>(hyper.beta2);
  const T eps = static_cast<T>(hyper.eps);
  const T bias_correction1 = static_cast<T>(1.0 - std::pow(hyper.beta1, t));
  const T bias_correction2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(hyper.beta2, t)));
  const T grad_scale = static_cast<T>(hyper.grad_scale);
  const T decay_weights = static_cast<T>(hyper.decay_weights);
  const T decay_embedding = static_cast<T>(hyper.decay_embedding);
  const T decay_bias = static_cast<T>(hyper.decay_bias);
  const int64_t weights_end = hyper.weights_end, embedding_end = hyper.embedding_end;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T decay = i < weights_end ? decay_weights : (i < embedding_end ? decay_embedding : decay_bias);
    math::adamw_element<T>(params[i], grads[i] * grad_scale, m[i], v[i], lr, beta1, beta2, eps, decay,
                           bias_correction1, bias_correction2_sqrt);
  }
}

template <class T>
double sum_of_squares(int64_t n, const T* values) {
  const int64_t chunks = chunk_count(0, n, kSquaresChunk);
  std::vector<double> partials(static_cast<size_t>(chunks), 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const RowRange range = chunk_range(0, n, kSquaresChunk, c);
    double sum = 0.0;
    for (int64_t i = range.begin; i < range.end; ++i) {
      const double x = static_cast<double>(values[i]);
      sum += x * x;
    }
    partials[static_cast<size_t>(c)] = sum;
  }
  double total = 0.0;
  for (double part : partials) total += part;
  return total;
}

template void adamw_update<float>(int64_t, float*, const float*, float*, float*, const AdamWHyper&);
template void adamw_update<double>(int64_t, double*, const double*, double*, double*, const AdamWHyper&);
template double sum_of_squares<float>(int64_t, const float*);
template double sum_of_squares<double>(int64_t, const double*);

}  // namespace seqcnn::cpu
