#include "train/loss_scale.hpp"

#include <string>

#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

double fill_row_scales(std::vector<MicroBatch>& micro, const LossConfig& loss) {
  // Any negative label is ignored, as the loss kernels do; a counted label
  // past the class weights is refused here, before it could index them.
  auto counted = [](int32_t label) { return label >= 0; };
  auto weight = [&](int32_t label) {  // of a counted label
    if (loss.class_weights.empty()) return 1.0;
    if (static_cast<size_t>(label) >= loss.class_weights.size())
      throw InputError("batch label " + std::to_string(label) + " has no class weight (" +
                       std::to_string(loss.class_weights.size()) + " classes)");
    return loss.class_weights[static_cast<size_t>(label)];
  };
  double total = 0.0;
  int64_t weighted_sequences = 0;
  for (const MicroBatch& mb : micro)
    for (const SequenceSlot& s : mb.batch->sequences) {
      double w = 0.0;
      for (int64_t r = s.start_row; r < s.start_row + s.length; ++r)
        if (counted(mb.batch->labels[r])) w += weight(mb.batch->labels[r]);
      total += w;
      weighted_sequences += w > 0.0;
    }
  for (MicroBatch& mb : micro) {
    const Batch& b = *mb.batch;
    mb.row_scale.assign(static_cast<size_t>(b.rows), 0.0f);
    if (total <= 0.0) continue;
    for (const SequenceSlot& s : b.sequences) {
      double seq_weight = 0.0;
      if (loss.reduction == Reduction::SequenceMean) {
        for (int64_t r = s.start_row; r < s.start_row + s.length; ++r)
          if (counted(b.labels[r])) seq_weight += weight(b.labels[r]);
        if (seq_weight <= 0.0) continue;
      }
      double scale = 1.0;
      if (loss.reduction == Reduction::TokenMean) scale = 1.0 / total;
      if (loss.reduction == Reduction::SequenceMean) scale = 1.0 / (static_cast<double>(weighted_sequences) * seq_weight);
      for (int64_t r = s.start_row; r < s.start_row + s.length; ++r)
        if (counted(b.labels[r])) mb.row_scale[r] = static_cast<float>(scale);
    }
  }
  return total;
}

}  // namespace seqcnn
