// Scratch memory for kernels that need it (partial sums, sort buffers).
// Each such op has an `<op>_workspace_bytes(...)` query and takes a
// Workspace; callers allocate it once, so no op allocates inside a step
// (which also keeps the step capturable in a CUDA graph).
#pragma once

#include <cstddef>
#include <string>

#include "seqcnn/errors.hpp"

namespace seqcnn::cuda {

struct Workspace {
  void* data = nullptr;
  std::size_t bytes = 0;
};

// Hands out aligned pieces of a workspace in order. With a null workspace it
// only counts, so the size query and the op share one carving routine and
// cannot disagree.
class WorkspaceCarver {
 public:
  explicit WorkspaceCarver(Workspace workspace, const char* op) : workspace_(workspace), op_(op) {}

  template <class T>
  T* take(std::size_t count) {
    constexpr std::size_t kAlign = 256;
    used_ = (used_ + kAlign - 1) / kAlign * kAlign;
    const std::size_t begin = used_;
    used_ += count * sizeof(T);
    if (workspace_.data == nullptr) return nullptr;
    if (used_ > workspace_.bytes)
      throw DeviceError(std::string(op_) + ": workspace of " + std::to_string(workspace_.bytes) +
                        " bytes is too small, it needs at least " + std::to_string(used_));
    return reinterpret_cast<T*>(static_cast<char*>(workspace_.data) + begin);
  }
  std::size_t used() const { return used_; }

 private:
  Workspace workspace_;
  const char* op_;
  std::size_t used_ = 0;
};

}  // namespace seqcnn::cuda
