// Single-thread kernels over the engine's device state: tiny, and they keep
// every per-step decision on the device (the same decisions, in the same
// order, as the CPU engine's train_step).
#include "engine_state.hpp"

#include "check.hpp"
#include "common/op_math.hpp"

namespace seqcnn::cuda {
namespace {

__device__ void clear_metrics(DeviceEngineState& s) {
  s.loss_sum = 0.0;
  s.counted = 0;
  s.correct = 0;
  s.steps_applied = 0;
  s.nonfinite_steps = 0;
  s.first_nonfinite_step = -1;
  s.first_nonfinite_loss = 0.0;
  s.first_nonfinite_grad_norm = 0.0;
  s.last_grad_norm = 0.0;
}

__device__ void clear_step(DeviceEngineState& s) {
  s.step.loss = 0.0;
  s.step.counted = 0;
  s.step.correct = 0;
  s.grad_sum_squares = 0.0;
  s.adamw.apply = 0;
  s.record_nonfinite = 0;
}

__global__ void reset_state_kernel(DeviceEngineState* state) {
  state->steps_taken = 0;
  clear_step(*state);
  clear_metrics(*state);
}

__global__ void reset_metrics_kernel(DeviceEngineState* state) { clear_metrics(*state); }

__global__ void begin_step_kernel(DeviceEngineState* state) { clear_step(*state); }

__global__ void set_steps_kernel(DeviceEngineState* state, long long steps_taken) { state->steps_taken = steps_taken; }

__global__ void finish_step_kernel(DeviceEngineState* state, const StepHeader* header, StepPolicy policy) {
  DeviceEngineState& s = *state;
  const double norm = sqrt(s.grad_sum_squares);
  s.last_grad_norm = norm;
  if (!isfinite(s.step.loss) || !isfinite(norm)) {
    s.adamw.apply = 0;
    ++s.nonfinite_steps;
    if (s.first_nonfinite_step < 0) {
      s.first_nonfinite_step = header->call_index;
      s.first_nonfinite_loss = s.step.loss;
      s.first_nonfinite_grad_norm = norm;
      s.record_nonfinite = 1;
    }
    return;
  }
  const double lr = math::scheduled_lr(policy.lr, s.steps_taken, policy.warmup_steps, policy.total_steps,
                                       policy.cosine, policy.min_lr_ratio);
  s.adamw = adamw_step_inputs(lr, policy.beta1, policy.beta2, s.steps_taken + 1,
                              math::clip_scale(norm, policy.clip_norm));
  ++s.steps_taken;
  ++s.steps_applied;
  s.loss_sum += s.step.loss;
  s.counted += s.step.counted;
  s.correct += s.step.correct;
}

// Block t scans tensor t; the flag is an OR over the block, written once.
__global__ void record_nonfinite_kernel(const DeviceEngineState* __restrict__ state, const float* __restrict__ grads,
                                        const long long* __restrict__ offsets, const long long* __restrict__ sizes,
                                        int* __restrict__ flags) {
  if (state->record_nonfinite == 0) return;
  const float* g = grads + offsets[blockIdx.x];
  const long long n = sizes[blockIdx.x];
  int found = 0;
  for (long long i = threadIdx.x; i < n; i += blockDim.x) found |= isfinite(g[i]) ? 0 : 1;
  found = __syncthreads_or(found);
  if (threadIdx.x == 0) flags[blockIdx.x] = found;
}

}  // namespace

void record_nonfinite_tensors(const DeviceEngineState* state, const float* grads, const long long* offsets,
                              const long long* sizes, int tensors, int* flags, cudaStream_t stream) {
  if (tensors <= 0) return;
  record_nonfinite_kernel<<<static_cast<unsigned>(tensors), 256, 0, stream>>>(state, grads, offsets, sizes, flags);
  CUDA_CHECK_LAUNCH();
}

void reset_engine_state(DeviceEngineState* state, cudaStream_t stream) {
  reset_state_kernel<<<1, 1, 0, stream>>>(state);
  CUDA_CHECK_LAUNCH();
}

void reset_engine_metrics(DeviceEngineState* state, cudaStream_t stream) {
  reset_metrics_kernel<<<1, 1, 0, stream>>>(state);
  CUDA_CHECK_LAUNCH();
}

void begin_step(DeviceEngineState* state, cudaStream_t stream) {
  begin_step_kernel<<<1, 1, 0, stream>>>(state);
  CUDA_CHECK_LAUNCH();
}

void finish_step(DeviceEngineState* state, const StepHeader* header, const StepPolicy& policy, cudaStream_t stream) {
  finish_step_kernel<<<1, 1, 0, stream>>>(state, header, policy);
  CUDA_CHECK_LAUNCH();
}

void set_steps_taken(DeviceEngineState* state, long long steps_taken, cudaStream_t stream) {
  set_steps_kernel<<<1, 1, 0, stream>>>(state, steps_taken);
  CUDA_CHECK_LAUNCH();
}

}  // namespace seqcnn::cuda
