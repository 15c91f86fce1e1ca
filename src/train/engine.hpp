// What the trainer needs from a backend: run an optimiser step over a set
// of micro-batches, evaluate logits, move parameters in and out. The CPU
// engine runs synchronously; the CUDA engine queues work on a stream and
// only synchronises in drain_metrics() and the download calls.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sched/batch.hpp"
#include "seqcnn/config.hpp"
#include "seqcnn/model.hpp"
#include "train/model_shape.hpp"

namespace seqcnn {

struct MicroBatch {
  const Batch* batch = nullptr;
  std::vector<float> row_scale;  // [rows]; the step's reduction, see cpu/softmax_xent.hpp
  uint64_t dropout_step = 0;     // keys this micro-batch's dropout masks (a running micro-batch count)
};

struct StepRequest {
  std::vector<MicroBatch> micro;
  double counted_weight = 0.0;  // sum of class weights over counted rows; 0 = all-masked, skip
};

// Accumulated since the last drain.
struct StepMetrics {
  double loss_sum = 0.0;  // sum over steps of the step loss
  int64_t counted = 0, correct = 0;
  int64_t steps_taken = 0, steps_skipped = 0;
  int64_t nonfinite_steps = 0;   // steps refused by the non-finite guard
  int64_t first_nonfinite_step = -1;  // train_step call (0-based, every call counts) of the first one
  // Filled when the guard fires (never on the good path): the first refused
  // step's loss and gradient norm, and the parameters (state_dict names)
  // whose gradient holds an inf or NaN; empty when the engine cannot tell.
  double first_nonfinite_loss = 0.0, first_nonfinite_grad_norm = 0.0;
  std::vector<std::string> first_nonfinite_tensors;
  double last_grad_norm = 0.0;
};

struct EngineOptions {
  LossConfig loss;
  OptimConfig optim;
  int64_t total_steps = 0;  // for the LR schedule
  uint64_t seed = 1;        // dropout masks
  int threads = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;
  virtual void set_parameters(std::span<const float> flat) = 0;
  virtual void get_parameters(std::span<float> flat) = 0;
  // Optimiser state (moments and steps taken), for checkpoints and resume.
  virtual void get_optimizer_state(std::span<float> m, std::span<float> v, int64_t& steps_taken) = 0;
  virtual void set_optimizer_state(std::span<const float> m, std::span<const float> v, int64_t steps_taken) = 0;
  // Forward, backward and AdamW for one optimiser step. An all-masked step
  // (counted_weight == 0) and a non-finite one leave parameters, moments and
  // the step count unchanged.
  virtual void train_step(const StepRequest& request) = 0;
  virtual StepMetrics drain_metrics() = 0;
  // Forward only, logits [rows][classes] to the host.
  virtual void forward_logits(const Batch& batch, std::vector<float>& logits) = 0;
  // Forward + backward without the update: the step's loss and gradients
  // (for tests and parity checks).
  virtual double loss_and_gradients(const StepRequest& request, std::span<float> grads) = 0;
};

std::unique_ptr<Engine> make_cpu_engine(const Model& model, const EngineOptions& options);

#if defined(SEQCNN_HAVE_CUDA)
// Throws DeviceError when no usable GPU is present.
std::unique_ptr<Engine> make_cuda_engine(const Model& model, const EngineOptions& options);
#endif

// Whether a CUDA device can be used; `why` says why not.
bool cuda_available(std::string* why);

}  // namespace seqcnn
