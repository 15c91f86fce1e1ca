// RAII owners of device memory and page-locked host memory. Contents are
// uninitialised after allocation; sizes are in elements.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "check.hpp"

namespace seqcnn::cuda {

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count, const char* what = "device buffer") { reset(count, what); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }
  bool empty() const { return size_ == 0; }

  // Frees, then allocates `count` elements (contents undefined).
  void reset(std::size_t count, const char* what = "device buffer") {
    release();
    data_ = static_cast<T*>(device_allocate(count * sizeof(T), what));
    size_ = count;
  }
  // Grows to at least `count` elements; returns true when it reallocated
  // (the old contents are then lost).
  bool ensure(std::size_t count, const char* what = "device buffer") {
    if (count <= size_) return false;
    reset(count, what);
    return true;
  }
  void release() noexcept {
    if (data_ != nullptr) (void)cudaFree(data_);  // a destructor cannot report; the error stays for the next check
    data_ = nullptr;
    size_ = 0;
  }

  void zero_async(cudaStream_t stream) {
    if (size_ > 0) CUDA_CHECK(cudaMemsetAsync(data_, 0, bytes(), stream));
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t count, const char* what = "pinned buffer") { reset(count, what); }
  ~PinnedBuffer() { release(); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_[i]; }

  void reset(std::size_t count, const char* what = "pinned buffer") {
    release();
    data_ = static_cast<T*>(pinned_allocate(count * sizeof(T), what));
    size_ = count;
  }
  bool ensure(std::size_t count, const char* what = "pinned buffer") {
    if (count <= size_) return false;
    reset(count, what);
    return true;
  }
  void release() noexcept {
    if (data_ != nullptr) (void)cudaFreeHost(data_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// Synchronous copies for tests and set-up code (not for the training loop).
template <class T>
DeviceBuffer<T> to_device(const std::vector<T>& host, const char* what = "device copy") {
  DeviceBuffer<T> buffer(host.size(), what);
  if (!host.empty()) CUDA_CHECK(cudaMemcpy(buffer.data(), host.data(), buffer.bytes(), cudaMemcpyHostToDevice));
  return buffer;
}

template <class T>
std::vector<T> to_host(const DeviceBuffer<T>& buffer) {
  std::vector<T> host(buffer.size());
  if (!host.empty()) CUDA_CHECK(cudaMemcpy(host.data(), buffer.data(), buffer.bytes(), cudaMemcpyDeviceToHost));
  return host;
}

}  // namespace seqcnn::cuda
