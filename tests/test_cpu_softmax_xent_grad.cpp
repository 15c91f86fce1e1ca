// dlogits of the masked, weighted, smoothed cross-entropy equal central
// differences of the loss, for each reduction expressed as row_scale.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/softmax_xent.hpp"
#include "grad_check.hpp"
#include "seqcnn/dataset.hpp"

namespace seqcnn {
namespace {

enum class Reduction { TokenMean, Sum, SequenceMean };

// Three sequences of 4, 3 and 5 rows in a row list with gap rows between,
// some labels unknown inside the sequences.
struct XentBatch {
  std::vector<int32_t> labels;
  std::vector<int> sequence;  // sequence of each row, -1 for gaps
};

XentBatch make_xent_batch(std::mt19937_64& rng, int classes) {
  XentBatch b;
  std::uniform_int_distribution<int32_t> label(0, classes - 1);
  for (int s = 0; s < 3; ++s) {
    b.labels.push_back(kIgnoreLabel);
    b.sequence.push_back(-1);
    const int n = 4 - s + 2 * (s == 2);
    for (int t = 0; t < n; ++t) {
      b.labels.push_back(t == 1 ? kIgnoreLabel : label(rng));
      b.sequence.push_back(s);
    }
  }
  b.labels.push_back(kIgnoreLabel);
  b.sequence.push_back(-1);
  return b;
}

// The host's side of the contract: s_r for each reduction.
std::vector<double> row_scale_for(const XentBatch& b, Reduction reduction, const std::vector<double>& weights) {
  std::vector<double> seq_weight(3, 0.0);
  double total = 0.0;
  for (size_t r = 0; r < b.labels.size(); ++r) {
    if (b.labels[r] < 0) continue;
    seq_weight[static_cast<size_t>(b.sequence[r])] += weights[static_cast<size_t>(b.labels[r])];
    total += weights[static_cast<size_t>(b.labels[r])];
  }
  std::vector<double> scale(b.labels.size(), 0.0);
  for (size_t r = 0; r < b.labels.size(); ++r) {
    if (b.labels[r] < 0) continue;
    switch (reduction) {
      case Reduction::TokenMean: scale[r] = 1.0 / total; break;
      case Reduction::Sum: scale[r] = 1.0; break;
      case Reduction::SequenceMean: scale[r] = 1.0 / (3.0 * seq_weight[static_cast<size_t>(b.sequence[r])]); break;
    }
  }
  return scale;
}

TEST(CpuSoftmaxXent, GradientMatchesCentralDifferencesForEveryReductionWeightAndSmoothing) {
  const int classes = 5;
  std::mt19937_64 rng(17);
  const XentBatch batch = make_xent_batch(rng, classes);
  const int64_t rows = static_cast<int64_t>(batch.labels.size());
  const std::vector<double> unit_weights(classes, 1.0);
  const std::vector<double> weights = {0.5, 2.0, 1.0, 0.0, 1.5};  // a zero weight too
  for (const Reduction reduction : {Reduction::TokenMean, Reduction::Sum, Reduction::SequenceMean}) {
    for (const bool weighted : {false, true}) {
      for (const double smoothing : {0.0, 0.1}) {
        const std::vector<double>& w = weighted ? weights : unit_weights;
        const std::vector<double> scale = row_scale_for(batch, reduction, w);
        std::vector<double> logits = testing::uniform_values(rng, static_cast<size_t>(rows * classes), -3.0, 3.0);
        auto loss = [&] {
          return cpu::softmax_xent<double>(rows, classes, logits.data(), batch.labels.data(), scale.data(),
                                           weighted ? w.data() : nullptr, smoothing, nullptr)
              .loss;
        };
        std::vector<double> dlogits(logits.size());
        cpu::softmax_xent<double>(rows, classes, logits.data(), batch.labels.data(), scale.data(),
                                  weighted ? w.data() : nullptr, smoothing, dlogits.data());
        const double error = testing::gradient_error(logits, dlogits, loss);
        const std::string where = "reduction " + std::to_string(static_cast<int>(reduction)) + " weighted " +
                                  std::to_string(weighted) + " smoothing " + std::to_string(smoothing);
        EXPECT_LE(error, testing::kGradientTolerance) << where;
        std::printf("softmax_xent gradient check (%s): %.2e\n", where.c_str(), error);
      }
    }
  }
}

}  // namespace
}  // namespace seqcnn
