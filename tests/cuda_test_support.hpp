// Shared pieces of the GPU tests: the skip that names why no GPU can be
// used, and device round trips. Compiled in every build; the device parts
// only where CUDA is built.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "train/engine.hpp"

#if defined(SEQCNN_HAVE_CUDA)
#include "../cuda/device_buffer.hpp"
#include "../cuda/handles.hpp"
#include "../cuda/workspace.hpp"
#include "cpu_op_fixtures.hpp"
#endif

// Skips the calling test, visibly, when no CUDA device can be used (or the
// build has no CUDA backend), with cuda_available()'s reason.
#define SEQCNN_REQUIRE_CUDA()                            \
  do {                                                   \
    std::string seqcnn_why_;                             \
    if (!::seqcnn::cuda_available(&seqcnn_why_))         \
      GTEST_SKIP() << seqcnn_why_;                       \
  } while (0)

#if defined(SEQCNN_HAVE_CUDA)
namespace seqcnn::testing {

// Device scratch of the size an op asked for.
struct TestWorkspace {
  explicit TestWorkspace(std::size_t bytes) : buffer(bytes, "test workspace") {}
  cuda::Workspace get() { return cuda::Workspace{buffer.data(), buffer.bytes()}; }
  cuda::DeviceBuffer<char> buffer;
};

// Waits for the stream, then copies back (to_host uses the default stream,
// which does not wait for a non-blocking one).
template <class T>
std::vector<T> download(const cuda::DeviceBuffer<T>& buffer, const cuda::Stream& stream) {
  stream.synchronize();
  return cuda::to_host(buffer);
}

// Fills rows an op must never write.
inline constexpr float kSentinel = 12345.0f;

inline std::vector<float> random_floats(std::mt19937_64& rng, size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// [rows][channels] with random values on real rows and `fill` elsewhere.
inline std::vector<float> random_on_real_rows(std::mt19937_64& rng, const RowLayout& layout, int channels,
                                              float fill = 0.0f) {
  std::vector<float> v = random_floats(rng, static_cast<size_t>(layout.rows * channels));
  for (int64_t r = 0; r < layout.rows; ++r)
    if (layout.row_is_real[static_cast<size_t>(r)] == 0) std::fill_n(v.begin() + r * channels, channels, fill);
  return v;
}

// Rows [first, end) of a [rows][channels] buffer.
inline std::vector<float> row_range(const std::vector<float>& v, int channels, int64_t first, int64_t end) {
  return std::vector<float>(v.begin() + first * channels, v.begin() + end * channels);
}

// Whether every element of rows [first, end) equals `value` (0 matches -0).
inline bool rows_hold(const std::vector<float>& v, int channels, int64_t first, int64_t end, float value) {
  for (int64_t i = first * channels; i < end * channels; ++i)
    if (!(v[static_cast<size_t>(i)] == value)) return false;
  return true;
}

// "{5, 0, 1}": sequence lengths as a readable test parameter.
inline std::string lengths_text(const std::vector<int64_t>& lengths) {
  std::string text = "{";
  for (size_t i = 0; i < lengths.size(); ++i) text += (i ? ", " : "") + std::to_string(lengths[i]);
  return text + "}";
}

inline bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace seqcnn::testing
#endif
