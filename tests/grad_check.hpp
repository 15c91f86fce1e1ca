// Finite-difference gradient checking in double, for every op and the whole
// model: central differences, compared by normwise relative error.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <limits>
#include <random>
#include <span>
#include <vector>

namespace seqcnn::testing {

// The project's tolerance for gradient checks in double.
inline constexpr double kGradientTolerance = 1e-6;
// Pre-activations closer than this to a ReLU kink make a draw unusable.
inline constexpr double kKinkMargin = 1e-3;

// ||a - b|| / max(||a||, ||b||); 0 when both are 0 (and +inf for any NaN).
template <class A, class B>
double normwise_relative_error(const A& a, const B& b) {
  if (std::size(a) != std::size(b)) return std::numeric_limits<double>::infinity();
  double diff = 0.0, norm_a = 0.0, norm_b = 0.0;
  for (size_t i = 0; i < std::size(a); ++i) {
    const double x = static_cast<double>(a[i]), y = static_cast<double>(b[i]);
    if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<double>::infinity();
    diff += (x - y) * (x - y);
    norm_a += x * x;
    norm_b += y * y;
  }
  const double scale = std::sqrt(std::max(norm_a, norm_b));
  return scale == 0.0 ? 0.0 : std::sqrt(diff) / scale;
}

// d loss / d x[i] for every i by (loss(x + h e_i) - loss(x - h e_i)) / 2h.
// `loss` reads x (usually captured by reference); x is restored exactly.
template <class Loss>
std::vector<double> central_differences(std::span<double> x, Loss&& loss, double step = 1e-6) {
  std::vector<double> gradient(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + step;
    const double up = loss();
    x[i] = saved - step;
    const double down = loss();
    x[i] = saved;
    gradient[i] = (up - down) / (2.0 * step);
  }
  return gradient;
}

// Normwise error between an analytic gradient and central differences of
// `loss` with respect to x.
template <class Loss>
double gradient_error(std::span<double> x, std::span<const double> analytic, Loss&& loss, double step = 1e-6) {
  return normwise_relative_error(analytic, central_differences(x, loss, step));
}

inline std::vector<double> uniform_values(std::mt19937_64& rng, size_t n, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = dist(rng);
  return v;
}

// True when no value lies within kKinkMargin of 0.
template <class V>
bool away_from_kinks(const V& pre_activations) {
  return std::all_of(std::begin(pre_activations), std::end(pre_activations),
                     [](double p) { return std::abs(p) >= kKinkMargin; });
}

}  // namespace seqcnn::testing
