// The reduction of a step, expressed as one scale per row: every kernel
// then computes loss = sum_r s_r * loss_r and dlogits = s_r * dloss_r, and
// gradient accumulation over micro-batches divides by the weight of the
// whole step, not of each micro-batch.
#pragma once

#include <vector>

#include "seqcnn/config.hpp"
#include "train/engine.hpp"

namespace seqcnn {

// Fills micro[i].row_scale for the configured reduction and returns the
// step's counted weight (sum of w_y over counted rows; 0 = all-masked):
//   token mean:    s_r = 1 / W_step
//   sum:           s_r = 1
//   sequence mean: s_r = 1 / (S * W_seq(r)), S = sequences with W_seq > 0 in the step
// Rows that do not count (gaps, ignore labels) get 0; so do rows of a
// sequence whose counted weight is 0.
double fill_row_scales(std::vector<MicroBatch>& micro, const LossConfig& loss);

}  // namespace seqcnn
