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
  if (why) why->clear();
  return true;
#else
  if (why) *why = "no CUDA device: this build has no CUDA backend";
  return false;
#endif
}

}  // namespace seqcnn
