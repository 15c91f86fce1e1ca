// Metrics (loss, accuracy, per-class precision/recall/F1, confusion) and
// per-position predictions, computed from the engine's logits.
#include "train/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sched/scheduler.hpp"
#include "seqcnn/errors.hpp"
#include "train/engine_factory.hpp"

namespace seqcnn {

namespace {

// -log softmax(z)[y], stable; +inf when z_y is -inf.
double row_nll(const float* z, int classes, int32_t y) {
  float m = -std::numeric_limits<float>::infinity();
  for (int c = 0; c < classes; ++c) m = std::max(m, z[c]);
  if (!std::isfinite(m)) return std::numeric_limits<double>::infinity();
  double s = 0.0;
  for (int c = 0; c < classes; ++c) s += std::exp(static_cast<double>(z[c]) - m);
  return (std::log(s) + m) - z[y];
}

int row_argmax(const float* z, int classes) {
  int best = 0;
  for (int c = 1; c < classes; ++c)
    if (z[c] > z[best]) best = c;
  return best;
}

}  // namespace

void fill_class_stats(EvalResult& r, const LabelSet& labels) {
  const size_t C = r.confusion.size();
  int64_t correct = 0, total = 0;
  r.per_class.assign(C, ClassStats{});
  for (size_t c = 0; c < C; ++c) {
    int64_t tp = r.confusion[c][c], row = 0, col = 0;
    for (size_t k = 0; k < C; ++k) {
      row += r.confusion[c][k];
      col += r.confusion[k][c];
    }
    ClassStats& s = r.per_class[c];
    s.label = c < labels.symbols().size() ? labels.symbols()[c] : std::to_string(c);
    s.support = row;
    s.precision = col > 0 ? static_cast<double>(tp) / static_cast<double>(col) : 0.0;
    s.recall = row > 0 ? static_cast<double>(tp) / static_cast<double>(row) : 0.0;
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
    correct += tp;
    total += row;
  }
  r.counted = total;
  r.accuracy = total > 0 ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
}

void check_labels_fit_model(const Dataset& data, const Model& model) {
  const int C = model.classes();
  for (const Record& r : data.records) {
    for (size_t t = 0; t < r.labels.size(); ++t) {
      const int32_t y = r.labels[t];
      if (y == kIgnoreLabel || (y >= 0 && y < C)) continue;
      throw InputError(data.source + ": record '" + r.id + "', position " + std::to_string(t + 1) + ": label id " +
                       std::to_string(y) + " is not one of the model's " + std::to_string(C) +
                       " classes (data mapped with another label set?)");
    }
  }
}

EvalResult evaluate_on(Engine& engine, const Model& model, const Dataset& data, int64_t batch_rows) {
  check_labels_fit_model(data, model);
  const int C = model.classes(), halo = model.halo_rows();
  EvalResult result;
  result.confusion.assign(static_cast<size_t>(C), std::vector<int64_t>(static_cast<size_t>(C), 0));
  const EpochPlan plan = plan_eval(data, batch_rows, halo);
  std::vector<float> logits;
  double loss_sum = 0.0;
  for (const auto& records : plan.batches) {
    const Batch batch = make_batch(data, records, halo, BatchLayout::Packed, model.vocab().size());
    engine.forward_logits(batch, logits);
    for (int64_t r = 0; r < batch.rows; ++r) {
      const int32_t y = batch.labels[r];
      if (y == kIgnoreLabel) continue;
      const float* z = logits.data() + r * C;
      loss_sum += row_nll(z, C, y);
      ++result.confusion[y][row_argmax(z, C)];
    }
  }
  fill_class_stats(result, model.labels());
  result.loss = result.counted > 0 ? loss_sum / static_cast<double>(result.counted) : 0.0;
  return result;
}

std::vector<Prediction> predict_on(Engine& engine, const Model& model, const std::vector<Record>& records,
                                   int64_t batch_rows) {
  const int C = model.classes(), halo = model.halo_rows();
  Dataset data;
  data.source = "predict input";
  data.records = records;
  const EpochPlan plan = plan_eval(data, batch_rows, halo);
  std::vector<Prediction> out(records.size());
  std::vector<float> logits;
  for (const auto& batch_records : plan.batches) {
    const Batch batch = make_batch(data, batch_records, halo, BatchLayout::Packed, model.vocab().size());
    engine.forward_logits(batch, logits);
    for (const SequenceSlot& s : batch.sequences) {
      Prediction& p = out[static_cast<size_t>(s.record)];
      p.labels.resize(static_cast<size_t>(s.length));
      p.probabilities.resize(static_cast<size_t>(s.length * C));
      for (int64_t t = 0; t < s.length; ++t) {
        const float* z = logits.data() + (s.start_row + t) * C;
        const int best = row_argmax(z, C);
        p.labels[static_cast<size_t>(t)] = best;
        double sum = 0.0;
        for (int c = 0; c < C; ++c) sum += std::exp(static_cast<double>(z[c]) - z[best]);
        for (int c = 0; c < C; ++c)
          p.probabilities[static_cast<size_t>(t * C + c)] = static_cast<float>(std::exp(static_cast<double>(z[c]) - z[best]) / sum);
      }
    }
  }
  return out;
}

EvalResult evaluate(const Model& model, const Dataset& data, const EvalOptions& options) {
  EngineOptions eo;
  eo.threads = options.threads;
  auto engine = make_engine(options.device, model, eo, nullptr);
  return evaluate_on(*engine, model, data, options.batch_rows);
}

std::vector<Prediction> predict(const Model& model, const std::vector<Record>& records, const EvalOptions& options) {
  EngineOptions eo;
  eo.threads = options.threads;
  auto engine = make_engine(options.device, model, eo, nullptr);
  return predict_on(*engine, model, records, options.batch_rows);
}

}  // namespace seqcnn
