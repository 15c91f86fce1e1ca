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
#include <optional>

#include "common/op_math.hpp"
#include "sched/scheduler.hpp"
#include "seqcnn/checkpoint.hpp"
#include "seqcnn/errors.hpp"
#include "train/engine_factory.hpp"
#include "train/evaluate.hpp"
#include "train/loss_scale.hpp"
#include "train/numeric_guard.hpp"
#include "train/resume_state.hpp"

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
  int64_t steps_taken = 0, steps_skipped = 0, nonfinite_steps = 0;
  int64_t engine_first_request = 0;  // requests made before this engine existed (a resumed run's)
  // Describes each train_step call since the last drain, to name a bad step.
  std::vector<std::string> pending_steps;
  // The current epoch's running totals, the best epoch and early stopping:
  // the rest of the position a resume file records.
  struct EpochTotals {
    double loss_sum = 0.0;
    int64_t steps = 0, counted = 0, correct = 0, tokens = 0;
  } epoch_totals;
  TrainSummary summary;
  int epochs_without_gain = 0;
  std::optional<ResumeState> resume;  // set by resume_from

  Impl(TrainConfig c, Model& m, const Dataset& t, const Dataset* v) : config(std::move(c)), model(m), train(t), valid(v) {}

  void log(const json& line) {
    const std::string text = line.dump();
    if (log_file.is_open()) log_file << text << '\n' << std::flush;
    if (log_callback) log_callback(text);
  }

  std::string out_path(const std::string& name) const {
    return (std::filesystem::path(config.run.out_dir) / name).string();
  }

  CheckpointInfo info_for(int epoch, double valid_accuracy) const {
    CheckpointInfo info;
    info.step = steps_taken;
    info.epoch = epoch;
    info.train_config_json = config_to_json(config);
    info.valid_accuracy = valid_accuracy;
    return info;
  }

  // Every file is written from finite parameters only: a NaN never replaces
  // a good checkpoint.
  void save(const std::string& name, int epoch, double valid_accuracy) {
    if (config.run.out_dir.empty()) return;
    engine->get_parameters(model.flat());
    check_parameters_finite(model, "refusing to write " + out_path(name) + " (an existing file is left as it was)");
    save_checkpoint(out_path(name), model, info_for(epoch, valid_accuracy));
  }

  // last.safetensors and the resume file, at the same moments; the run
  // continues with step `next_step` (0-based) of epoch `next_epoch`.
  void save_last(int epochs_done, double valid_accuracy, int next_epoch, int64_t next_step) {
    if (config.run.out_dir.empty()) return;
    save("last.safetensors", epochs_done, valid_accuracy);
    ResumeState r;
    r.epoch = next_epoch;
    r.next_step = next_step;
    r.train_step_calls = requests;
    r.micro_batches = micro_batches;
    r.steps_taken = steps_taken;
    r.steps_skipped = steps_skipped;
    r.nonfinite_steps = nonfinite_steps;
    r.best_valid_accuracy = summary.best_valid_accuracy;
    r.best_epoch = summary.best_epoch;
    r.epochs_without_gain = epochs_without_gain;
    r.epoch_loss_sum = epoch_totals.loss_sum;
    r.epoch_steps = epoch_totals.steps;
    r.epoch_counted = epoch_totals.counted;
    r.epoch_correct = epoch_totals.correct;
    r.epoch_tokens = epoch_totals.tokens;
    r.train_fingerprint = dataset_fingerprint(train);
    r.train_records = static_cast<int64_t>(train.records.size());
    r.m.resize(model.flat().size());
    r.v.resize(model.flat().size());
    int64_t engine_steps = 0;
    engine->get_optimizer_state(r.m, r.v, engine_steps);
    save_resume_file(out_path("last.resume.safetensors"), model, info_for(epochs_done, valid_accuracy), r);
  }

  void resume_from(const std::string& path) {
    LoadedResume loaded = load_resume_file(path);
    check_same_model(loaded.checkpoint.model, model, path);
    const TrainConfig stored = apply_config_json(TrainConfig{}, loaded.checkpoint.info.train_config_json, path + " (the run's config)");
    check_resumable_config(stored, config, path);
    if (loaded.state.train_fingerprint != dataset_fingerprint(train))
      throw CheckpointError(path + ": the training data differs from the run being resumed (" +
                            std::to_string(train.records.size()) + " records now, " +
                            std::to_string(loaded.state.train_records) + " then, or the same count with other contents)");
    const auto stored_flat = loaded.checkpoint.model.flat();
    std::copy(stored_flat.begin(), stored_flat.end(), model.flat().begin());
    resume = std::move(loaded.state);
  }

  void check_setup() {
    validate_config(config);
    const int C = model.classes();
    if (!config.loss.class_weights.empty() && static_cast<int>(config.loss.class_weights.size()) != C)
      throw ConfigError("config 'loss.class_weights': " + std::to_string(config.loss.class_weights.size()) +
                        " weights given, the label set has " + std::to_string(C) + " classes");
    if (train.records.empty()) throw InputError("training split: " + train.source + ": no records");
    if (train.counted_labels() == 0)
      throw InputError("training split: " + train.source + ": no position has a counted label (nothing to learn)");
    if (valid != nullptr && !valid->records.empty() && valid->counted_labels() == 0)
      throw InputError("validation split: " + valid->source + ": no position has a counted label (nothing to score)");
    check_labels_fit_model(train, model);
    if (valid != nullptr) check_labels_fit_model(*valid, model);
    if (config.model.embed_dim != model.config().embed_dim || config.model.convs.size() != model.config().convs.size())
      throw ConfigError("the model's architecture differs from the config's");
  }

  // Reads the engine's metrics. A non-finite step stops the run naming the
  // step, batch and tensor, or (run.nonfinite = skip) is counted and logged;
  // the engine has refused its update either way.
  StepMetrics drain(int epoch) {
    StepMetrics m = engine->drain_metrics();
    const int64_t first_pending = requests - static_cast<int64_t>(pending_steps.size());
    if (m.nonfinite_steps > 0) {
      const int64_t k = engine_first_request + m.first_nonfinite_step - first_pending;
      const std::string where = k >= 0 && k < static_cast<int64_t>(pending_steps.size()) ? pending_steps[static_cast<size_t>(k)]
                                                                                         : "step call " + std::to_string(m.first_nonfinite_step);
      const std::string detail = describe_nonfinite(m);
      const bool stop = config.run.nonfinite == NonFinitePolicy::Stop;
      if (!stop) nonfinite_steps += m.nonfinite_steps;
      log({{"event", "nonfinite"}, {"epoch", epoch}, {"where", where}, {"detail", detail}, {"policy", to_string(config.run.nonfinite)},
           {"steps", m.nonfinite_steps}, {"nonfinite_total", nonfinite_steps}});
      if (stop)
        throw NumericalError("non-finite loss or gradient norm in epoch " + std::to_string(epoch) + ", " + where + ": " + detail +
                             ": training stopped; no checkpoint was written from it (run.nonfinite = \"skip\" leaves such steps out)");
    }
    steps_taken += m.steps_taken;
    steps_skipped += m.steps_skipped;
    pending_steps.clear();
    return m;
  }

  // Puts the engine and the counters where the resume file left the run.
  void restore_position(int& first_epoch, int64_t& first_step) {
    const ResumeState& r = *resume;
    engine->set_optimizer_state(r.m, r.v, r.steps_taken);
    requests = engine_first_request = r.train_step_calls;
    micro_batches = r.micro_batches;
    steps_taken = r.steps_taken;
    steps_skipped = r.steps_skipped;
    nonfinite_steps = r.nonfinite_steps;
    summary.best_valid_accuracy = r.best_valid_accuracy;
    summary.best_epoch = r.best_epoch;
    summary.epochs_run = r.epoch - 1;
    summary.resumed_epoch = r.epoch;
    summary.resumed_step = r.next_step;
    epochs_without_gain = r.epochs_without_gain;
    epoch_totals = EpochTotals{r.epoch_loss_sum, r.epoch_steps, r.epoch_counted, r.epoch_correct, r.epoch_tokens};
    first_epoch = r.epoch;
    first_step = r.next_step;
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
    int first_epoch = 1;
    int64_t first_step = 0;
    if (resume) restore_position(first_epoch, first_step);

    if (!config.run.out_dir.empty()) {
      std::error_code ec;  // the error_code form: a failure becomes a seqcnn::Error like every other
      std::filesystem::create_directories(config.run.out_dir, ec);
      if (ec) throw Error("cannot create the output directory '" + config.run.out_dir + "': " + ec.message());
      log_file.open(out_path("train.jsonl"), resume ? std::ios::app : std::ios::trunc);
      if (!log_file) throw Error("cannot write " + out_path("train.jsonl"));
      if (!resume) save("init.safetensors", 0, -1.0);
    }
    log({{"event", "start"}, {"device", device}, {"parameters", model.parameter_count()},
         {"threads", omp_get_max_threads()}, {"steps_per_epoch", steps_per_epoch}, {"total_steps", total_steps},
         {"config", json::parse(config_to_json(config))}, {"resumed_epoch", summary.resumed_epoch},
         {"resumed_step", summary.resumed_step}});

    const int64_t eval_rows = std::max<int64_t>(65536, fixed_rows);
    // A run resumed after it stopped early has nothing left to do.
    if (resume && first_step == 0 && config.run.early_stopping_patience > 0 &&
        epochs_without_gain >= config.run.early_stopping_patience) {
      summary.stopped_early = true;
      first_epoch = config.run.epochs + 1;
    }
    double train_seconds = 0.0;
    int64_t train_tokens = 0;
    const auto run_start = Clock::now();

    for (int epoch = first_epoch; epoch <= config.run.epochs; ++epoch) {
      if (epoch > 1) plan = plan_epoch(train, bc, halo, config.run.seed, epoch);
      log({{"event", "plan"}, {"epoch", epoch}, {"layout", to_string(bc.layout)}, {"batches", plan.batches},
           {"padding_waste", plan.padding_waste()}});
      const auto epoch_start = Clock::now();
      auto interval_start = epoch_start;
      int64_t interval_tokens = 0;
      double interval_loss = 0.0;
      int64_t interval_steps = 0;
      const int64_t steps = steps_in(plan);
      const int64_t start_step = epoch == first_epoch ? first_step : 0;
      if (start_step > steps)
        throw CheckpointError("the resume position (epoch " + std::to_string(epoch) + ", step " + std::to_string(start_step) +
                              ") lies beyond the epoch's " + std::to_string(steps) + " steps: the batching differs");
      if (start_step == 0) epoch_totals = EpochTotals{};

      for (int64_t s = start_step; s < steps; ++s) {
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
          epoch_totals.tokens += interval_tokens;
          interval_loss = m.steps_taken > 0 ? m.loss_sum / static_cast<double>(m.steps_taken) : 0.0;
          interval_steps = m.steps_taken;
          epoch_totals.loss_sum += m.loss_sum;
          epoch_totals.steps += m.steps_taken;
          epoch_totals.counted += m.counted;
          epoch_totals.correct += m.correct;
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
          p.nonfinite_steps = nonfinite_steps;
          interval_tokens = 0;
          log({{"event", "step"}, {"epoch", epoch}, {"step", steps_taken}, {"loss", interval_loss},
               {"steps_in_mean", interval_steps}, {"lr", p.lr}, {"grad_norm", m.last_grad_norm},
               {"tokens_per_s", p.tokens_per_second}, {"skipped", steps_skipped}, {"nonfinite", nonfinite_steps}});
          if (step_callback) step_callback(p);
          if (config.run.checkpoint_every_steps > 0 && steps_taken > 0 &&
              steps_taken / config.run.checkpoint_every_steps != (steps_taken - m.steps_taken) / config.run.checkpoint_every_steps)
            save_last(epoch - 1, -1.0, epoch, s + 1);
        }
      }

      EpochReport report;
      report.epoch = epoch;
      report.step = steps_taken;
      const EpochTotals& et = epoch_totals;
      report.train_loss = et.steps > 0 ? et.loss_sum / static_cast<double>(et.steps) : 0.0;
      report.train_accuracy = et.counted > 0 ? static_cast<double>(et.correct) / static_cast<double>(et.counted) : 0.0;
      report.padding_waste = plan.padding_waste();
      report.seconds = seconds_since(epoch_start);
      report.tokens_per_second = report.seconds > 0 ? static_cast<double>(et.tokens) / report.seconds : 0.0;
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
      epoch_totals = EpochTotals{};
      save_last(epoch, report.has_valid ? report.valid.accuracy : -1.0, epoch + 1, 0);
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
    summary.skipped_steps = steps_skipped;
    summary.nonfinite_steps = nonfinite_steps;
    summary.tokens_per_second = train_seconds > 0 ? static_cast<double>(train_tokens) / train_seconds : 0.0;
    log({{"event", "end"}, {"epochs", summary.epochs_run}, {"steps", summary.steps}, {"skipped_steps", steps_skipped},
         {"nonfinite_steps", nonfinite_steps},
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
void Trainer::resume_from(const std::string& path) { impl_->resume_from(path); }

TrainConfig resume_config(const std::string& path) {
  const LoadedResume loaded = load_resume_file(path);
  return apply_config_json(TrainConfig{}, loaded.checkpoint.info.train_config_json, path + " (the run's config)");
}
std::string Trainer::device_description() const { return impl_->device; }

}  // namespace seqcnn
