#include "train/batch_check.hpp"

#include <string>

#include "seqcnn/errors.hpp"

namespace seqcnn {

void check_micro_batch(const char* engine, const ModelShape& shape, const Batch& batch,
                       std::span<const float> row_scale, bool for_training) {
  const std::string who = std::string(engine) + ": ";
  const auto rows = static_cast<std::size_t>(batch.rows);
  if (batch.rows < 0 || batch.tokens.size() != rows || batch.labels.size() != rows ||
      batch.row_is_real.size() != rows) {
    throw ConfigError(who + "batch of " + std::to_string(batch.rows) +
                      " rows has tokens/labels/row_is_real of another length");
  }
  if (batch.halo < shape.halo) {
    throw ConfigError(who + "batch halo " + std::to_string(batch.halo) + " rows, the model's convolutions need " +
                      std::to_string(shape.halo));
  }
  if (for_training && row_scale.size() != rows) {
    throw ConfigError(who + "batch of " + std::to_string(batch.rows) + " rows has " +
                      std::to_string(row_scale.size()) + " row scales");
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const int32_t tok = batch.tokens[r];
    if (batch.row_is_real[r] != 0 && tok != shape.pad_id && (tok < 0 || tok >= shape.vocab)) {
      throw InputError(who + "row " + std::to_string(r) + " holds token id " + std::to_string(tok) +
                       ", expected an id in [0, " + std::to_string(shape.vocab) + ")");
    }
    if (for_training && batch.labels[r] >= shape.classes) {
      throw InputError(who + "row " + std::to_string(r) + " has label " + std::to_string(batch.labels[r]) +
                       ", expected a class in [0, " + std::to_string(shape.classes) + ") or a negative ignore label");
    }
  }
}

void check_step_request(const char* engine, const ModelShape& shape, const StepRequest& request) {
  for (const MicroBatch& mb : request.micro) {
    if (mb.batch == nullptr) throw ConfigError(std::string(engine) + ": a micro-batch has no batch");
    check_micro_batch(engine, shape, *mb.batch, mb.row_scale, true);
  }
}

}  // namespace seqcnn
