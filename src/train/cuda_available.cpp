// Whether a CUDA device can be used, with the reason when not. Compiled in
// every build, so CPU-only builds answer "built without CUDA".
#include <string>

#include "train/engine.hpp"

#if defined(SEQCNN_HAVE_CUDA)
#include <cuda_runtime.h>
#endif

namespace seqcnn {

bool cuda_available(std::string* why) {
#if defined(SEQCNN_HAVE_CUDA)
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (why) *why = std::string("no CUDA device: ") + cudaGetErrorString(status);
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return false;
  }
  if (count == 0) {
    if (why) *why = "no CUDA device: none found";
    return false;
  }
  // The build carries sm_90 code and compute_90 PTX: an older GPU cannot run
  // it, so it is no usable device (and --device auto stays on the CPU).
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
    if (why) *why = std::string("no usable CUDA device: ") + cudaGetErrorString(cudaGetLastError());
    return false;
  }
  if (major < 9) {
    if (why)
      *why = "no usable CUDA device: device " + std::to_string(device) + " has compute capability " +
             std::to_string(major) + "." + std::to_string(minor) + ", this build needs 9.0 or newer";
    return false;
  }
  if (why) why->clear();
  return true;
#else
  if (why) *why = "no CUDA device: this build has no CUDA backend";
  return false;
#endif
}

}  // namespace seqcnn
