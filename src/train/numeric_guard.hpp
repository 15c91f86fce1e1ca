// The trainer's numerical guards: what to say when a step was refused for a
// non-finite loss or gradient, and the check that keeps non-finite
// parameters out of every file.
#pragma once

#include <string>

#include "seqcnn/model.hpp"
#include "train/engine.hpp"

namespace seqcnn {

// "loss inf, gradient norm nan; non-finite gradient in 'dense.weight'" for
// the first refused step of `metrics`.
std::string describe_nonfinite(const StepMetrics& metrics);

// NumericalError when a parameter holds an inf or NaN, naming the tensor,
// the element and `what` was about to happen (e.g. writing a checkpoint).
void check_parameters_finite(const Model& model, const std::string& what);

}  // namespace seqcnn
