// AdamW over the flat parameter buffer in one launch, and the gradient's
// sum of squares; twins of cpu::adamw_update and cpu::sum_of_squares
// (src/cpu/adamw.hpp). The per-step values (lr, bias corrections, clip
// scale, whether to apply at all) are read from device memory, so a
// replayed CUDA graph picks up the current step's values.
#pragma once

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "common/host_device.hpp"
#include "workspace.hpp"

namespace seqcnn::cuda {

// Fixed for a run.
struct AdamWConstants {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  int64_t weights_end = 0, embedding_end = 0;  // [weights | embedding | biases]
  float decay_weights = 0.0f, decay_embedding = 0.0f, decay_bias = 0.0f;
};

// Changes every step; lives in device memory.
struct AdamWStepInputs {
  float lr;
  float bias_correction1;       // 1 - beta1^t
  float bias_correction2_sqrt;  // sqrt(1 - beta2^t)
  float grad_scale;             // global-norm clip factor
  int apply;                    // 0: leave parameters and moments untouched
};

// The per-step values exactly as cpu::adamw_update derives them from its
// double hyper-parameters (computed in double, then rounded to float);
// callable on the host and on the device.
SEQCNN_HD AdamWStepInputs adamw_step_inputs(double lr, double beta1, double beta2, int64_t step, double grad_scale) {
  const double t = static_cast<double>(step);
  AdamWStepInputs in;
  in.lr = static_cast<float>(lr);
  in.bias_correction1 = static_cast<float>(1.0 - pow(beta1, t));
  in.bias_correction2_sqrt = static_cast<float>(sqrt(1.0 - pow(beta2, t)));
  in.grad_scale = static_cast<float>(grad_scale);
  in.apply = 1;
  return in;
}

void adamw_update(int64_t n, float* params, const float* grads, float* m, float* v, const AdamWConstants& constants,
                  const AdamWStepInputs* device_inputs, cudaStream_t stream);

std::size_t sum_of_squares_workspace_bytes(int64_t n);

// *device_result = sum_i values[i]^2 in double: fixed-size chunks (partials
// in fixed slots), then a fixed-order final pass. Overwrites the result.
void sum_of_squares(int64_t n, const float* values, double* device_result, Workspace workspace, cudaStream_t stream);

}  // namespace seqcnn::cuda
