#include "train/engine_factory.hpp"

#include "seqcnn/errors.hpp"

namespace seqcnn {

std::unique_ptr<Engine> make_engine(DeviceKind kind, const Model& model, const EngineOptions& options,
                                    std::string* description) {
  std::string why;
  if (kind == DeviceKind::Cpu) {
    if (description) *description = "cpu";
    return make_cpu_engine(model, options);
  }
  const bool usable = cuda_available(&why);
  if (kind == DeviceKind::Cuda && !usable) throw DeviceError("--device cuda was asked for, but " + why);
  if (!usable) {
    if (description) *description = "cpu (auto: " + why + ")";
    return make_cpu_engine(model, options);
  }
#if defined(SEQCNN_HAVE_CUDA)
  if (description) *description = "cuda";
  return make_cuda_engine(model, options);
#else
  throw DeviceError("this build has no CUDA backend");
#endif
}

}  // namespace seqcnn
