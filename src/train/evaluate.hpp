// Evaluation and prediction on an engine that already holds the parameters.
#pragma once

#include <vector>

#include "seqcnn/trainer.hpp"
#include "train/engine.hpp"

namespace seqcnn {

EvalResult evaluate_on(Engine& engine, const Model& model, const Dataset& data, int64_t batch_rows);

std::vector<Prediction> predict_on(Engine& engine, const Model& model, const std::vector<Record>& records,
                                   int64_t batch_rows);

// Per-class precision/recall/F1 and accuracy from a confusion matrix [true][predicted].
void fill_class_stats(EvalResult& result, const LabelSet& labels);

}  // namespace seqcnn
