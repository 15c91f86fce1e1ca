// The optimiser's step count, the current step's totals and the metrics
// since the last drain, all in device memory: a step (or a replayed CUDA
// graph of it) decides on the device whether to apply the update, with no
// host round trip. The host reads this only in drain_metrics().
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "adamw.hpp"
#include "softmax_xent.hpp"

namespace seqcnn::cuda {

struct DeviceEngineState {
  long long steps_taken;      // optimiser steps applied (t of the next update is this + 1)
  DeviceXentTotals step;      // the current step's loss, counted and correct
  double grad_sum_squares;    // the current step's squared gradient norm
  AdamWStepInputs adamw;      // the current step's update inputs
  // Since the last drain (StepMetrics, less steps_skipped, which the host counts).
  double loss_sum;
  long long counted, correct;
  long long steps_applied;
  long long nonfinite_steps;
  long long first_nonfinite_step;  // train_step call index, -1 when none
  double first_nonfinite_loss, first_nonfinite_grad_norm;
  double last_grad_norm;
  int record_nonfinite;  // 1 during the step that set first_nonfinite_step
};

// Written by the host for each step and copied with the batch data.
struct StepHeader {
  long long call_index;  // train_step calls so far (names a non-finite step)
};

// Fixed for a run: the learning-rate schedule and clipping.
struct StepPolicy {
  double lr = 1e-3;
  long long warmup_steps = 0;
  long long total_steps = 0;
  bool cosine = false;
  double min_lr_ratio = 0.0;
  double beta1 = 0.9, beta2 = 0.999;
  double clip_norm = 0.0;
};

// Sets every field to its initial value (no steps, no metrics).
void reset_engine_state(DeviceEngineState* state, cudaStream_t stream);
// Clears the metrics fields only (after the host has read them).
void reset_engine_metrics(DeviceEngineState* state, cudaStream_t stream);
// Zeroes the current step's totals.
void begin_step(DeviceEngineState* state, cudaStream_t stream);
// After the gradient's sum of squares: the non-finite guard, then (when the
// step is finite) lr, bias corrections and clip scale into state->adamw, the
// step count and the metrics; a refused step sets adamw.apply = 0.
void finish_step(DeviceEngineState* state, const StepHeader* header, const StepPolicy& policy, cudaStream_t stream);
// After finish_step: when this step was the first refused one since the
// last drain, flags[t] = whether tensor t's gradient (grads[offsets[t],
// offsets[t] + sizes[t])) holds an inf or NaN; otherwise does nothing.
void record_nonfinite_tensors(const DeviceEngineState* state, const float* grads, const long long* offsets,
                              const long long* sizes, int tensors, int* flags, cudaStream_t stream);
// Sets the optimiser's step count (for resuming).
void set_steps_taken(DeviceEngineState* state, long long steps_taken, cudaStream_t stream);

}  // namespace seqcnn::cuda
