// The CUDA backend's error reporting: a failed CUDA, cuBLAS or cuDNN call
// names the file, the line, the call and the library's error; launch sizes
// and workspaces that do not fit are DeviceErrors that say why; an
// allocation the device cannot serve says how much was asked and how much
// was free. The first group needs no GPU (the status values are given, not
// produced by a device), so it runs in every CUDA build.
#include <gtest/gtest.h>

#include <string>

#include "cuda_test_support.hpp"

#if defined(SEQCNN_HAVE_CUDA)
#include "../cuda/check.hpp"
#include "../cuda/device_buffer.hpp"
#include "../cuda/workspace.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn::testing {
namespace {

// The message of the DeviceError `action` throws ("" when it throws none).
template <class Action>
std::string device_error_of(Action&& action) {
  try {
    action();
  } catch (const DeviceError& e) {
    return e.what();
  }
  return "";
}

cudaError_t returns(cudaError_t status) { return status; }
cublasStatus_t returns(cublasStatus_t status) { return status; }
cudnnStatus_t returns(cudnnStatus_t status) { return status; }

TEST(CudaChecks, FailedCudaCallNamesFileLineCallAndError) {
  const int line = __LINE__ + 1;
  const std::string what = device_error_of([] { CUDA_CHECK(returns(cudaErrorInvalidValue)); });
  EXPECT_NE(what.find("test_cuda_checks.cpp:" + std::to_string(line)), std::string::npos) << what;
  EXPECT_NE(what.find("returns(cudaErrorInvalidValue)"), std::string::npos) << what;
  EXPECT_NE(what.find("cudaErrorInvalidValue"), std::string::npos) << what;
  EXPECT_TRUE(device_error_of([] { CUDA_CHECK(returns(cudaSuccess)); }).empty());
}

TEST(CudaChecks, FailedCublasAndCudnnCallsNameFileLineAndStatus) {
  const std::string blas = device_error_of([] { CUBLAS_CHECK(returns(CUBLAS_STATUS_INVALID_VALUE)); });
  EXPECT_NE(blas.find("test_cuda_checks.cpp:"), std::string::npos) << blas;
  EXPECT_NE(blas.find("CUBLAS_STATUS_INVALID_VALUE"), std::string::npos) << blas;
  const std::string dnn = device_error_of([] { CUDNN_CHECK(returns(CUDNN_STATUS_BAD_PARAM)); });
  EXPECT_NE(dnn.find("test_cuda_checks.cpp:"), std::string::npos) << dnn;
  EXPECT_NE(dnn.find("CUDNN_STATUS_BAD_PARAM"), std::string::npos) << dnn;
}

TEST(CudaChecks, LaunchGridTooLargeIsADeviceErrorNamingTheOp) {
  EXPECT_EQ(cuda::grid_for(0, 256, "op"), 0u);
  EXPECT_EQ(cuda::grid_for(257, 256, "op"), 2u);
  const std::string what = device_error_of([] { cuda::grid_for(1LL << 50, 32, "huge_op"); });
  EXPECT_NE(what.find("huge_op"), std::string::npos) << what;
}

TEST(CudaChecks, TooSmallWorkspaceSaysHowMuchItNeeds) {
  cuda::WorkspaceCarver counter(cuda::Workspace{}, "some_op");
  counter.take<float>(100);
  counter.take<double>(3);
  EXPECT_EQ(counter.used(), 512u + 24u);  // 400 bytes, then the next piece at a 256-byte boundary
  alignas(256) static char bytes[300];
  cuda::WorkspaceCarver carver(cuda::Workspace{bytes, 270}, "some_op");
  EXPECT_NE(carver.take<float>(60), nullptr);
  const std::string what = device_error_of([&] { carver.take<float>(10); });
  EXPECT_NE(what.find("some_op"), std::string::npos) << what;
  EXPECT_NE(what.find("296"), std::string::npos) << what;  // 256 + 40 bytes
}

TEST(CudaChecks, OutOfMemorySaysHowMuchWasAskedAndHowMuchIsFree) {
  SEQCNN_REQUIRE_CUDA();
  const std::size_t petabyte = std::size_t{1} << 50;
  const std::string what = device_error_of([&] { cuda::DeviceBuffer<char> b(petabyte, "a test tensor"); });
  EXPECT_NE(what.find("out of device memory"), std::string::npos) << what;
  EXPECT_NE(what.find(std::to_string(petabyte) + " bytes for a test tensor"), std::string::npos) << what;
  EXPECT_NE(what.find("device memory free: "), std::string::npos) << what;
  EXPECT_EQ(what.find("unknown"), std::string::npos) << what;
  // The failed allocation leaves no error behind for the next call.
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  cuda::DeviceBuffer<float> small(16, "after the failure");
  EXPECT_EQ(small.size(), 16u);
}

}  // namespace
}  // namespace seqcnn::testing

#else  // built without CUDA

TEST(CudaChecks, SkipsWithoutCuda) { SEQCNN_REQUIRE_CUDA(); }

#endif
