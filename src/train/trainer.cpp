// The training loop: plans batches, assembles optimiser steps, drives the
// engine, logs, validates, checkpoints and stops early. It reads metrics
// back only when a log line is due, so a GPU engine runs ahead freely.
#include "seqcnn/trainer.hpp"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/op_math.hpp"
#include "sched/scheduler.hpp"
#include "seqcnn/checkpoint.hpp"
#include "seqcnn/errors.hpp"
#include "train/engine_factory.hpp"
#include "train/evaluate.hpp"
#include "train/loss_scale.hpp"

namespace seqcnn {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

json eval_json(const EvalResult& r) {
  json per_class = json::object();
  for (const auto& c : r.per_class)
    per_class[c.label] = {{"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1}, {"support", c.support}};
  return {{"loss", r.loss}, {"accuracy", r.accuracy}, {"counted", r.counted}, {"per_class", per_class},
          {"confusion", r.confusion}};
}

}  // namespace

struct Trainer::Impl {
  TrainConfig config;
  Model& model;
  const Dataset& train;
  const Dataset* valid;
  std::function<void(const StepProgress&)> step_callback;
  std::function<void(const EpochReport&)> epoch_callback;
  std::function<void(const std::string&)> log_callback;
  std::unique_ptr<Engine> engine;
  std::string device;
  std::ofstream log_file;

  // Where the run stands.
  int64_t requests = 0;       // train_step calls
  int64_t micro_batches = 0;  // keys dropout masks
  int64_t steps_taken = 0, steps_skipped = 0;
  // Describes each train_step call since the last drain, to name a bad step.
  std::vector<std::string> pending_steps;

  Impl(TrainConfig c, Model& m, const Dataset& t, const Dataset* v) : config(std::move(c)), model(m), train(t), valid(v) {}

  void log(const json& line) {
    const std::string text = line.dump();
    if (log_file.is_open()) log_file << text << '\n' << std::flush;
    if (log_callback) log_callback(text);
  }

  std::string out_path(const std::string& name) const {
    return (std::filesystem::path(config.run.out_dir) / name).string();
  }

  void save(const std::string& name, int epoch, double valid_accuracy) {
    if (config.run.out_dir.empty()) return;
    engine->get_parameters(model.flat());
    CheckpointInfo info;
    info.step = steps_taken;
    info.epoch = epoch;
    info.train_config_json = config_to_json(config);
    info.valid_accuracy = valid_accuracy;
    save_checkpoint(out_path(name), model, info);
  }

  void check_setup() {
    validate_config(config);
    const int C = model.classes();
    if (!config.loss.class_weights.empty() && static_cast<int>(config.loss.class_weights.size()) != C)
      throw ConfigError("config 'loss.class_weights': " + std::to_string(config.loss.class_weights.size()) +
                        " weights given, the label set has " + std::to_string(C) + " classes");
    if (train.records.empty()) throw InputError(train.source + ": the training set has no records");
    if (config.model.embed_dim != model.config().embed_dim || config.model.convs.size() != model.config().convs.size())
      throw ConfigError("the model's architecture differs from the config's");
  }

  // Reads the engine's metrics; a non-finite step stops the run, naming it.
  StepMetrics drain(int epoch) {
    StepMetrics m = engine->drain_metrics();
    const int64_t first_pending = requests - static_cast<int64_t>(pending_steps.size());
    if (m.nonfinite_steps > 0) {
      const int64_t k = m.first_nonfinite_step - first_pending;
      const std::string where = k >= 0 && k < static_cast<int64_t>(pending_steps.size()) ? pending_steps[static_cast<size_t>(k)]
                                                                                         : "step call " + std::to_string(m.first_nonfinite_step);
      log({{"event", "nonfinite"}, {"epoch", epoch}, {"where", where}});
      throw NumericalError("non-finite loss or gradient norm in epoch " + std::to_string(epoch) + ", " + where +
                           ": training stopped, the last good parameters are kept (no checkpoint was written from it)");
    }
    steps_taken += m.steps_taken;
    steps_skipped += m.steps_skipped;
    pending_steps.clear();
    return m;
  }

  TrainSummary run() {
    check_setup();
    if (config.run.threads > 0) omp_set_num_threads(config.run.threads);
    const int halo = model.halo_rows();
    const BatchConfig& bc = config.batch;
    const int64_t fixed_rows = bc.batch_rows > 0 ? bc.batch_rows : 0;
    const int accumulation = bc.accumulation;
    auto steps_in = [&](const EpochPlan& p) {
      return (static_cast<int64_t>(p.batches.size()) + accumulation - 1) / accumulation;
    };
    EpochPlan plan = plan_epoch(train, bc, halo, config.run.seed, 1);
    const int64_t steps_per_epoch = steps_in(plan);
    const int64_t total_steps = steps_per_epoch * config.run.epochs;

    EngineOptions eo;
    eo.loss = config.loss;
    eo.optim = config.optim;
    eo.total_steps = total_steps;
    eo.seed = config.run.seed;
    eo.threads = config.run.threads;
    engine = make_engine(config.run.device, model, eo, &device);

    if (!config.run.out_dir.empty()) {
      std::error_code ec;  // the error_code form: a failure becomes a seqcnn::Error like every other
      std::filesystem::create_directories(config.run.out_dir, ec);
      if (ec) throw Error("cannot create the output directory '" + config.run.out_dir + "': " + ec.message());
      log_file.open(out_path("train.jsonl"), std::ios::trunc);
      if (!log_file) throw Error("cannot write " + out_path("train.jsonl"));
      save("init.safetensors", 0, -1.0);
    }
    log({{"event", "start"}, {"device", device}, {"parameters", model.parameter_count()},
         {"threads", omp_get_max_threads()}, {"steps_per_epoch", steps_per_epoch}, {"total_steps", total_steps},
         {"config", json::parse(config_to_json(config))}});

    TrainSummary summary;
    const int64_t eval_rows = std::max<int64_t>(65536, fixed_rows);
    int epochs_without_gain = 0;
    double train_seconds = 0.0;
    int64_t train_tokens = 0;
    const auto run_start = Clock::now();

    for (int epoch = 1; epoch <= config.run.epochs; ++epoch) {
      if (epoch > 1) plan = plan_epoch(train, bc, halo, config.run.seed, epoch);
      log({{"event", "plan"}, {"epoch", epoch}, {"layout", to_string(bc.layout)}, {"batches", plan.batches},
           {"padding_waste", plan.padding_waste()}});
      const auto epoch_start = Clock::now();
      auto interval_start = epoch_start;
      int64_t interval_tokens = 0, epoch_tokens = 0, epoch_steps_logged = 0;
      double epoch_loss = 0.0;
      int64_t epoch_counted = 0, epoch_correct = 0;
      double interval_loss = 0.0;
      int64_t interval_steps = 0;
      const int64_t steps = steps_in(plan);

      for (int64_t s = 0; s < steps; ++s) {
        std::vector<Batch> batches;
        std::string described = "batch";
        for (int a = 0; a < accumulation; ++a) {
          const size_t b = static_cast<size_t>(s * accumulation + a);
          if (b >= plan.batches.size()) break;
          batches.push_back(make_batch(train, plan.batches[b], halo, bc.layout, model.vocab().size(), fixed_rows));
          described += " " + std::to_string(b + 1) + "/" + std::to_string(plan.batches.size());
        }
        StepRequest request;
        for (const Batch& b : batches) {
          MicroBatch mb;
          mb.batch = &b;
          mb.dropout_step = static_cast<uint64_t>(micro_batches++);
          request.micro.push_back(std::move(mb));
          interval_tokens += b.real_rows();
        }
        request.counted_weight = fill_row_scales(request.micro, config.loss);
        const std::string first_record = train.records[static_cast<size_t>(batches.front().sequences.front().record)].id;
        pending_steps.push_back("step " + std::to_string(s + 1) + " (" + described + ", first record '" + first_record + "')");
        engine->train_step(request);
        ++requests;

        const bool last = s + 1 == steps;
        if ((s + 1) % config.run.log_every_steps == 0 || last) {
          const StepMetrics m = drain(epoch);
          const double dt = seconds_since(interval_start);
          interval_start = Clock::now();
          train_seconds += dt;
          train_tokens += interval_tokens;
          epoch_tokens += interval_tokens;
          interval_loss = m.steps_taken > 0 ? m.loss_sum / static_cast<double>(m.steps_taken) : 0.0;
          interval_steps = m.steps_taken;
          epoch_loss += m.loss_sum;
          epoch_steps_logged += m.steps_taken;
          epoch_counted += m.counted;
          epoch_correct += m.correct;
          StepProgress p;
          p.epoch = epoch;
          p.step = steps_taken;
          p.steps_per_epoch = steps_per_epoch;
          p.total_steps = total_steps;
          p.loss = interval_loss;
          const OptimConfig& o = config.optim;
          p.lr = math::scheduled_lr(o.lr, steps_taken, o.warmup_steps, total_steps, o.schedule == LrSchedule::Cosine,
                                    o.min_lr_ratio);
          p.tokens_per_second = dt > 0 ? static_cast<double>(interval_tokens) / dt : 0.0;
          const double per_step = train_seconds / static_cast<double>(std::max<int64_t>(1, requests));
          p.eta_seconds = per_step * static_cast<double>(total_steps - std::min(total_steps, requests));
          p.skipped_steps = steps_skipped;
          interval_tokens = 0;
          log({{"event", "step"}, {"epoch", epoch}, {"step", steps_taken}, {"loss", interval_loss},
               {"steps_in_mean", interval_steps}, {"lr", p.lr}, {"grad_norm", m.last_grad_norm},
               {"tokens_per_s", p.tokens_per_second}, {"skipped", steps_skipped}});
          if (step_callback) step_callback(p);
          if (config.run.checkpoint_every_steps > 0 && steps_taken > 0 &&
              steps_taken / config.run.checkpoint_every_steps != (steps_taken - m.steps_taken) / config.run.checkpoint_every_steps)
            save("last.safetensors", epoch - 1, -1.0);
        }
      }

      EpochReport report;
      report.epoch = epoch;
      report.step = steps_taken;
      report.train_loss = epoch_steps_logged > 0 ? epoch_loss / static_cast<double>(epoch_steps_logged) : 0.0;
      report.train_accuracy = epoch_counted > 0 ? static_cast<double>(epoch_correct) / static_cast<double>(epoch_counted) : 0.0;
      report.padding_waste = plan.padding_waste();
      report.seconds = seconds_since(epoch_start);
      report.tokens_per_second = report.seconds > 0 ? static_cast<double>(epoch_tokens) / report.seconds : 0.0;
      if (valid != nullptr && !valid->records.empty()) {
        report.has_valid = true;
        report.valid = evaluate_on(*engine, model, *valid, eval_rows);
        report.improved = report.valid.accuracy > summary.best_valid_accuracy;
        if (report.improved) {
          summary.best_valid_accuracy = report.valid.accuracy;
          summary.best_epoch = epoch;
          save("best.safetensors", epoch, report.valid.accuracy);
          epochs_without_gain = 0;
        } else {
          ++epochs_without_gain;
        }
      }
      save("last.safetensors", epoch, report.has_valid ? report.valid.accuracy : -1.0);
      json line = {{"event", "epoch"}, {"epoch", epoch}, {"step", steps_taken}, {"train_loss", report.train_loss},
                   {"train_accuracy", report.train_accuracy}, {"padding_waste", report.padding_waste},
                   {"seconds", report.seconds}, {"tokens_per_s", report.tokens_per_second}, {"improved", report.improved}};
      if (report.has_valid) line["valid"] = eval_json(report.valid);
      log(line);
      if (epoch_callback) epoch_callback(report);
      summary.epochs_run = epoch;
      if (config.run.early_stopping_patience > 0 && epochs_without_gain >= config.run.early_stopping_patience) {
        summary.stopped_early = true;
        break;
      }
    }
    engine->get_parameters(model.flat());
    summary.steps = steps_taken;
    summary.tokens_per_second = train_seconds > 0 ? static_cast<double>(train_tokens) / train_seconds : 0.0;
    log({{"event", "end"}, {"epochs", summary.epochs_run}, {"steps", summary.steps}, {"skipped_steps", steps_skipped},
         {"best_epoch", summary.best_epoch}, {"best_valid_accuracy", summary.best_valid_accuracy},
         {"stopped_early", summary.stopped_early}, {"tokens_per_s", summary.tokens_per_second},
         {"seconds", seconds_since(run_start)}});
    return summary;
  }

};

Trainer::Trainer(TrainConfig config, Model& model, const Dataset& train, const Dataset* valid)
    : impl_(std::make_unique<Impl>(std::move(config), model, train, valid)) {}
Trainer::~Trainer() = default;
void Trainer::on_step(std::function<void(const StepProgress&)> callback) { impl_->step_callback = std::move(callback); }
void Trainer::on_epoch(std::function<void(const EpochReport&)> callback) { impl_->epoch_callback = std::move(callback); }
void Trainer::on_log(std::function<void(const std::string&)> callback) { impl_->log_callback = std::move(callback); }
TrainSummary Trainer::run() { return impl_->run(); }
std::string Trainer::device_description() const { return impl_->device; }

}  // namespace seqcnn
