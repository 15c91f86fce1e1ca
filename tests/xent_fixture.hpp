// Fixture F of the masking-and-loss cases: two sequences padded to T = 3,
// C = 3, rows A0 A1 A2 B0 B1(pad) B2(pad), with garbage logits on the pads.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "seqcnn/dataset.hpp"

namespace seqcnn::testing {

inline constexpr int kFixtureClasses = 3;

inline std::vector<double> fixture_logits() {
  return {2.0, 1.0, 0.1,   // A0
          0.5, 2.5, -1.0,  // A1
          0.0, 0.0, 3.0,   // A2
          1.0, 2.0, 3.0,   // B0
          4.0, 0.0, 0.0,   // B1 (pad)
          0.0, 4.0, 0.0};  // B2 (pad)
}

inline std::vector<int32_t> fixture_labels() { return {0, 1, 2, 0, kIgnoreLabel, kIgnoreLabel}; }

// Row `r` of a [rows][C] buffer.
template <class T>
std::vector<double> row_of(const std::vector<T>& buffer, int64_t r, int classes = kFixtureClasses) {
  return std::vector<double>(buffer.begin() + r * classes, buffer.begin() + (r + 1) * classes);
}

// The cases give numbers to 6 significant digits: agree to half a unit in the 6th.
inline ::testing::AssertionResult six_digits(double actual, double expected) {
  const double unit = expected == 0.0 ? 1e-12 : std::pow(10.0, std::floor(std::log10(std::abs(expected))) - 5.0);
  if (std::abs(actual - expected) <= 0.5 * unit + 1e-15) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << actual << ", expected " << expected << " (6 significant digits)";
}

inline void expect_row_six_digits(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t c = 0; c < actual.size(); ++c) EXPECT_TRUE(six_digits(actual[c], expected[c])) << "class " << c;
}

}  // namespace seqcnn::testing
