// The checks every engine makes on a micro-batch before it does any work,
// so that a bad batch changes no state (no parameter, moment or step count
// moves) and reads no memory outside the model's tables.
#pragma once

#include <span>

#include "sched/batch.hpp"
#include "train/engine.hpp"
#include "train/model_shape.hpp"

namespace seqcnn {

// ConfigError for mismatched array lengths or a halo the model cannot use;
// InputError for a token id outside [0, vocab) on a learning row or a
// label outside the classes. row_scale may be empty when `for_training` is
// false (forward only). `engine` names the caller in the message.
void check_micro_batch(const char* engine, const ModelShape& shape, const Batch& batch,
                       std::span<const float> row_scale, bool for_training);

// Every micro-batch of a request, and that each has a batch: called first
// by train_step and loss_and_gradients, an all-masked request included.
void check_step_request(const char* engine, const ModelShape& shape, const StepRequest& request);

}  // namespace seqcnn
