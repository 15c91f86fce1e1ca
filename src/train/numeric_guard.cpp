#include "train/numeric_guard.hpp"

#include <cmath>
#include <sstream>

#include "seqcnn/errors.hpp"

namespace seqcnn {

std::string describe_nonfinite(const StepMetrics& m) {
  std::ostringstream s;
  const bool loss_bad = !std::isfinite(m.first_nonfinite_loss), norm_bad = !std::isfinite(m.first_nonfinite_grad_norm);
  if (!loss_bad && !norm_bad && m.first_nonfinite_tensors.empty()) return "the engine reports no detail";
  s << "loss " << m.first_nonfinite_loss << ", gradient norm " << m.first_nonfinite_grad_norm << "; ";
  if (m.first_nonfinite_tensors.empty()) {
    s << (norm_bad ? "no single gradient tensor is non-finite (the norm overflowed)"
                   : "every gradient is finite (the loss alone is not)");
  } else {
    s << "non-finite gradient in ";
    for (size_t i = 0; i < m.first_nonfinite_tensors.size(); ++i) s << (i ? ", '" : "'") << m.first_nonfinite_tensors[i] << "'";
  }
  return s.str();
}

void check_parameters_finite(const Model& model, const std::string& what) {
  const auto flat = model.flat();
  for (const ParamInfo& p : model.params()) {
    for (int64_t i = 0; i < p.size; ++i) {
      const float x = flat[static_cast<size_t>(p.offset + i)];
      if (std::isfinite(x)) continue;
      std::ostringstream s;
      s << "parameter '" << p.name << "' holds " << x << " (element " << i << " of " << p.size << " in the engine layout): "
        << what;
      throw NumericalError(s.str());
    }
  }
}

}  // namespace seqcnn
