// The CUDA engine (the Engine interface of src/train/engine.hpp) with its
// GPU-specific knobs. make_cuda_engine(model, options) in engine.hpp uses
// the defaults.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "train/engine.hpp"

namespace seqcnn::cuda {

struct CudaEngineOptions {
  // Capture a step in a CUDA graph and replay it while the step's shape
  // (micro-batch count, rows and halo of each) stays the same.
  bool use_graphs = true;
};

// What the engine did with graphs, for tests and reports.
struct CudaGraphStats {
  int64_t captures = 0;
  int64_t replays = 0;        // steps run by replaying a graph
  int64_t eager_steps = 0;    // steps queued op by op
  std::string capture_error;  // why capture was given up, when it was
};

std::unique_ptr<Engine> make_cuda_engine(const Model& model, const EngineOptions& options,
                                         const CudaEngineOptions& cuda_options);

// The stats of an engine made by make_cuda_engine; DeviceError for another engine.
CudaGraphStats graph_stats(const Engine& engine);

}  // namespace seqcnn::cuda
