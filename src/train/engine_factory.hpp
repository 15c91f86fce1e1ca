// Picks the backend for a run: cpu, cuda, or auto (the GPU when one is
// usable, else the CPU with the reason recorded).
#pragma once

#include <memory>
#include <string>

#include "train/engine.hpp"

namespace seqcnn {

// `description` receives e.g. "cuda" or "cpu (auto: no CUDA device: ...)".
// Asking for cuda without a usable GPU is a DeviceError.
std::unique_ptr<Engine> make_engine(DeviceKind kind, const Model& model, const EngineOptions& options,
                                    std::string* description);

}  // namespace seqcnn
