// The CPU backend: the reference ops driven step by step on the host.
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "common/op_math.hpp"
#include "cpu/adamw.hpp"
#include "cpu/model_pass.hpp"
#include "seqcnn/errors.hpp"
#include "train/batch_check.hpp"
#include "train/engine.hpp"

namespace seqcnn {

namespace {

class CpuEngine final : public Engine {
 public:
  CpuEngine(const Model& model, const EngineOptions& options)
      : shape_(model_shape(model)), options_(options), params_info_(model.params()) {
    const size_t n = static_cast<size_t>(shape_.parameter_count);
    params_.assign(model.flat().begin(), model.flat().end());
    grads_.assign(n, 0.0f);
    m_.assign(n, 0.0f);
    v_.assign(n, 0.0f);
    for (double w : options.loss.class_weights) class_weights_.push_back(static_cast<float>(w));
    loss_.class_weights = class_weights_.empty() ? nullptr : class_weights_.data();
    loss_.label_smoothing = static_cast<float>(options.loss.label_smoothing);
    if (options.threads > 0) omp_set_num_threads(options.threads);
  }

  std::string name() const override { return "cpu"; }

  void set_parameters(std::span<const float> flat) override { copy_checked(flat, params_); }
  void get_parameters(std::span<float> flat) override { copy_out(params_, flat); }
  void get_optimizer_state(std::span<float> m, std::span<float> v, int64_t& steps_taken) override {
    copy_out(m_, m);
    copy_out(v_, v);
    steps_taken = steps_taken_;
  }
  void set_optimizer_state(std::span<const float> m, std::span<const float> v, int64_t steps_taken) override {
    copy_checked(m, m_);
    copy_checked(v, v_);
    steps_taken_ = steps_taken;
  }

  void train_step(const StepRequest& request) override {
    check_step_request("cpu engine", shape_, request);
    const int64_t call = calls_++;
    if (request.counted_weight <= 0.0) {  // all-masked: nothing to learn, nothing moves
      ++metrics_.steps_skipped;
      return;
    }
    const cpu::XentTotals totals = accumulate_gradients(request);
    const double norm = std::sqrt(cpu::sum_of_squares(static_cast<int64_t>(grads_.size()), grads_.data()));
    metrics_.last_grad_norm = norm;
    if (!std::isfinite(totals.loss) || !std::isfinite(norm)) {
      ++metrics_.nonfinite_steps;
      if (metrics_.first_nonfinite_step < 0) {
        metrics_.first_nonfinite_step = call;
        metrics_.first_nonfinite_loss = totals.loss;
        metrics_.first_nonfinite_grad_norm = norm;
        metrics_.first_nonfinite_tensors = nonfinite_gradient_tensors();
      }
      return;
    }
    const OptimConfig& o = options_.optim;
    cpu::AdamWHyper h;
    h.lr = math::scheduled_lr(o.lr, steps_taken_, o.warmup_steps, options_.total_steps,
                              o.schedule == LrSchedule::Cosine, o.min_lr_ratio);
    h.beta1 = o.beta1;
    h.beta2 = o.beta2;
    h.eps = o.eps;
    h.step = steps_taken_ + 1;
    h.weights_end = shape_.weights_end;
    h.embedding_end = shape_.embedding_end;
    h.decay_weights = o.weight_decay;
    h.decay_embedding = o.decay_embedding ? o.weight_decay : 0.0;
    h.decay_bias = o.decay_bias ? o.weight_decay : 0.0;
    h.grad_scale = math::clip_scale(norm, o.clip_norm);
    cpu::adamw_update(static_cast<int64_t>(params_.size()), params_.data(), grads_.data(), m_.data(), v_.data(), h);
    ++steps_taken_;
    ++metrics_.steps_taken;
    metrics_.loss_sum += totals.loss;
    metrics_.counted += totals.counted;
    metrics_.correct += totals.correct;
  }

  StepMetrics drain_metrics() override {
    StepMetrics out = metrics_;
    metrics_ = StepMetrics{};
    return out;
  }

  void forward_logits(const Batch& batch, std::vector<float>& logits) override {
    check_micro_batch("cpu engine", shape_, batch, {}, false);
    cpu::model_forward(shape_, params_.data(), batch, acts_);
    logits.assign(acts_.logits.begin(), acts_.logits.begin() + batch.rows * shape_.classes);
  }

  double loss_and_gradients(const StepRequest& request, std::span<float> grads) override {
    check_step_request("cpu engine", shape_, request);
    const cpu::XentTotals totals = accumulate_gradients(request);
    copy_out(grads_, grads);
    return totals.loss;
  }

 private:
  // Which tensors' gradients hold an inf or NaN: a scan run only when the
  // guard has fired, so the good path pays nothing.
  std::vector<std::string> nonfinite_gradient_tensors() const {
    std::vector<std::string> names;
    for (const ParamInfo& p : params_info_) {
      const auto first = grads_.begin() + p.offset;
      if (std::any_of(first, first + p.size, [](float g) { return !std::isfinite(g); })) names.push_back(p.name);
    }
    return names;
  }

  cpu::XentTotals accumulate_gradients(const StepRequest& request) {
    std::fill(grads_.begin(), grads_.end(), 0.0f);
    cpu::XentTotals sum;
    for (const MicroBatch& mb : request.micro) {
      const cpu::XentTotals t = cpu::model_forward_backward(shape_, params_.data(), *mb.batch, mb.row_scale.data(), loss_,
                                                            options_.seed, mb.dropout_step, acts_, grads_.data());
      sum.loss += t.loss;
      sum.counted += t.counted;
      sum.correct += t.correct;
    }
    return sum;
  }

  static void copy_checked(std::span<const float> from, std::vector<float>& to) {
    if (from.size() != to.size())
      throw Error("parameter buffer holds " + std::to_string(from.size()) + " floats, the model has " + std::to_string(to.size()));
    std::copy(from.begin(), from.end(), to.begin());
  }
  static void copy_out(const std::vector<float>& from, std::span<float> to) {
    if (from.size() != to.size())
      throw Error("destination holds " + std::to_string(to.size()) + " floats, the model has " + std::to_string(from.size()));
    std::copy(from.begin(), from.end(), to.begin());
  }

  ModelShape shape_;
  EngineOptions options_;
  std::vector<ParamInfo> params_info_;  // names and offsets, for naming a non-finite gradient
  std::vector<float> params_, grads_, m_, v_;
  std::vector<float> class_weights_;
  cpu::LossParams<float> loss_;
  cpu::ModelActivations<float> acts_;
  int64_t steps_taken_ = 0;
  int64_t calls_ = 0;  // train_step calls, for naming a non-finite step
  StepMetrics metrics_;
};

}  // namespace

std::unique_ptr<Engine> make_cpu_engine(const Model& model, const EngineOptions& options) {
  return std::make_unique<CpuEngine>(model, options);
}

}  // namespace seqcnn
