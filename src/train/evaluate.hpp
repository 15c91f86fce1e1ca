// Evaluation and prediction on an engine that already holds the parameters.
#pragma once

#include <vector>

#include "seqcnn/trainer.hpp"
#include "train/engine.hpp"

namespace seqcnn {

// InputError naming the record and position when a label id is not one of
// the model's classes: data mapped with another label set would index past
// the model's outputs.
void check_labels_fit_model(const Dataset& data, const Model& model);

EvalResult evaluate_on(Engine& engine, const Model& model, const Dataset& data, int64_t batch_rows);

std::vector<Prediction> predict_on(Engine& engine, const Model& model, const std::vector<Record>& records,
                                   int64_t batch_rows);

// Per-class precision/recall/F1 and accuracy from a confusion matrix [true][predicted].
void fill_class_stats(EvalResult& result, const LabelSet& labels);

}  // namespace seqcnn
