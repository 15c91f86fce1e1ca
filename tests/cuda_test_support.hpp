// Shared pieces of the GPU tests: the skip that names why no GPU can be
// used, and device round trips. Compiled in every build; the device parts
// only where CUDA is built.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "train/engine.hpp"

#if defined(SEQCNN_HAVE_CUDA)
#include "../cuda/device_buffer.hpp"
#include "../cuda/handles.hpp"
#include "../cuda/workspace.hpp"
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

}  // namespace seqcnn::testing
#endif
