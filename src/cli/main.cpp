// The seqcnn command-line program: train, eval, predict. Built on the
// public API only; it is the one place that prints and exits.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "report.hpp"
#include "seqcnn/seqcnn.hpp"

namespace {

using namespace seqcnn;

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open the config file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TrainFlags {
  std::string preset = "default";
  std::string config_file;
  std::string train, valid, test, format, labels, layout, device, out;
  std::string resume, on_nonfinite, too_long;
  std::optional<int64_t> max_length;
  std::optional<int> epochs, threads, batch_sequences, accumulation, patience, buckets;
  std::optional<int64_t> batch_rows, log_every, checkpoint_every;
  std::optional<uint64_t> seed;
  std::optional<double> lr, dropout, weight_decay, clip_norm, smoothing;
  bool no_test = false;
  bool quiet = false;
};

TrainConfig build_config(const TrainFlags& f) {
  // A resumed run starts from its own stored config; flags and a config
  // file override it as they would a preset (the trainer then refuses any
  // change that would not continue the run exactly).
  TrainConfig c = f.resume.empty() ? preset_config(f.preset) : resume_config(f.resume);
  if (!f.config_file.empty()) c = apply_config_json(c, read_text_file(f.config_file), f.config_file);
  if (!f.train.empty()) c.data.train_path = f.train;
  if (!f.valid.empty()) c.data.valid_path = f.valid == "none" ? "" : f.valid;
  if (!f.test.empty()) c.data.test_path = f.test == "none" ? "" : f.test;
  if (!f.format.empty()) c.data.format = parse_format(f.format);
  if (!f.labels.empty()) c.data.labels = f.labels;
  if (!f.layout.empty()) c.batch.layout = f.layout == "padded" ? BatchLayout::Padded : BatchLayout::Packed;
  if (!f.device.empty()) c.run.device = parse_device(f.device);
  if (!f.out.empty()) c.run.out_dir = f.out;
  if (f.epochs) c.run.epochs = *f.epochs;
  if (f.threads) c.run.threads = *f.threads;
  if (f.seed) c.run.seed = *f.seed;
  if (f.log_every) c.run.log_every_steps = *f.log_every;
  if (f.checkpoint_every) c.run.checkpoint_every_steps = *f.checkpoint_every;
  if (f.patience) c.run.early_stopping_patience = *f.patience;
  if (f.batch_sequences) {
    c.batch.batch_sequences = *f.batch_sequences;
    c.batch.batch_rows = 0;
  }
  if (f.batch_rows) {
    c.batch.batch_rows = *f.batch_rows;
    c.batch.batch_sequences = 0;
  }
  if (f.accumulation) c.batch.accumulation = *f.accumulation;
  if (f.buckets) c.batch.buckets = *f.buckets;
  if (f.lr) c.optim.lr = *f.lr;
  if (f.weight_decay) c.optim.weight_decay = *f.weight_decay;
  if (f.clip_norm) c.optim.clip_norm = *f.clip_norm;
  if (f.dropout) c.model.dropout = *f.dropout;
  if (f.smoothing) c.loss.label_smoothing = *f.smoothing;
  if (!f.on_nonfinite.empty()) c.run.nonfinite = f.on_nonfinite == "skip" ? NonFinitePolicy::Skip : NonFinitePolicy::Stop;
  if (f.max_length) c.data.max_length = *f.max_length;
  if (!f.too_long.empty()) c.data.too_long = f.too_long == "crop" ? TooLong::Crop : TooLong::Error;
  validate_config(c);
  return c;
}

int run_train(const TrainFlags& f) {
  const TrainConfig config = build_config(f);
  // --no-test: the test split is neither scored nor read, so it need not exist.
  DataConfig data_config = config.data;
  if (f.no_test) data_config.test_path.clear();
  TrainingData data = load_training_data(data_config);
  Model model = Model::initialize(config.model, data.vocab, data.labels, config.run.seed);
  Trainer trainer(config, model, data.train, data.valid.records.empty() ? nullptr : &data.valid);
  if (!f.resume.empty()) trainer.resume_from(f.resume);
  ProgressPrinter printer(std::cerr, f.quiet);
  trainer.on_step([&](const StepProgress& p) { printer.step(p); });
  trainer.on_epoch([&](const EpochReport& r) { printer.epoch(r, config.run.epochs); });
  std::cerr << "seqcnn train: preset '" << config.preset << "', " << data.train.records.size() << " training records ("
            << data.train.positions() << " positions), " << model.parameter_count() << " parameters, "
            << config.run.epochs << " epochs, out " << config.run.out_dir
            << (f.resume.empty() ? std::string() : ", resuming " + f.resume) << "\n";
  const TrainSummary summary = trainer.run();
  std::cerr << "device: " << trainer.device_description() << "\n";
  print_summary(std::cout, summary);
  if (!f.no_test && !data.test.records.empty()) {
    // The test split is scored with the best checkpoint on validation.
    std::string used = "final weights";
    Model scored = model;
    const std::string best = config.run.out_dir + "/best.safetensors";
    if (!config.run.out_dir.empty() && summary.best_epoch > 0) {
      scored = load_checkpoint(best).model;
      used = best + " (epoch " + std::to_string(summary.best_epoch) + ")";
    }
    EvalOptions eo;
    eo.device = config.run.device;
    eo.threads = config.run.threads;
    const EvalResult test = evaluate(scored, data.test, eo);
    std::cout << "test split (" << config.data.test_path << ", " << used << "):\n";
    print_eval(std::cout, test);
    std::cout << "test accuracy (Q" << model.classes() << "): " << format_percent(test.accuracy) << "\n";
  }
  return 0;
}

int run_eval(const std::string& model_path, const std::string& data_path, const std::string& format,
             const std::string& device, int threads) {
  const LoadedCheckpoint ckpt = load_checkpoint(model_path);
  const Dataset data = read_dataset(data_path, parse_format(format), ckpt.model.vocab(), ckpt.model.labels());
  if (data.counted_labels() == 0)
    throw InputError(data_path + ": none of its " + std::to_string(data.records.size()) +
                     " records has a position with a counted label: nothing to score (eval needs labelled data; "
                     "predict labels unlabelled input)");
  EvalOptions eo;
  eo.device = parse_device(device);
  eo.threads = threads;
  const EvalResult r = evaluate(ckpt.model, data, eo);
  std::cout << data_path << ": " << data.records.size() << " records, model " << model_path << "\n";
  print_eval(std::cout, r);
  return 0;
}

int run_predict(const std::string& model_path, const std::string& input, const std::string& format,
                const std::string& output, const std::string& probabilities, const std::string& device, int threads) {
  const LoadedCheckpoint ckpt = load_checkpoint(model_path);
  check_vocabulary_fits_format(ckpt.model.vocab(), parse_format(format), input);
  const std::vector<RawRecord> raw = read_raw(input, parse_format(format));
  std::vector<RawRecord> unlabelled = raw;
  for (auto& r : unlabelled) r.labels.clear();
  const Dataset data = to_dataset(unlabelled, ckpt.model.vocab(), ckpt.model.labels(), input);
  EvalOptions eo;
  eo.device = parse_device(device);
  eo.threads = threads;
  const std::vector<Prediction> predictions = predict(ckpt.model, data.records, eo);
  write_predictions(output, probabilities, raw, predictions, ckpt.model.labels());
  std::cerr << "seqcnn predict: " << raw.size() << " records -> " << (output.empty() ? "stdout" : output) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"seqcnn: per-position sequence labelling with 1-D CNNs"};
  app.require_subcommand(1);

  TrainFlags tf;
  CLI::App* train = app.add_subcommand("train", "train a model (defaults: the bundled protein data)");
  train->add_option("--preset", tf.preset, "recipe: 'seed' or 'default'")->capture_default_str();
  train->add_option("--config", tf.config_file, "JSON config file (overrides the preset)");
  train->add_option("--train", tf.train, "training file");
  train->add_option("--valid", tf.valid, "validation file ('none' to skip)");
  train->add_option("--test", tf.test, "test file scored with the best checkpoint ('none' to skip)");
  train->add_option("--format", tf.format, "input format: 3line, fasta, conll");
  train->add_option("--labels", tf.labels, "label symbols in class order, e.g. HEC");
  train->add_option("--epochs", tf.epochs, "epochs");
  train->add_option("--seed", tf.seed, "random seed");
  train->add_option("--threads", tf.threads, "CPU threads (0 = all cores)");
  train->add_option("--device", tf.device, "cpu, cuda or auto");
  train->add_option("--out", tf.out, "output directory for checkpoints and the JSONL log");
  train->add_option("--lr", tf.lr, "peak learning rate");
  train->add_option("--weight-decay", tf.weight_decay, "AdamW weight decay");
  train->add_option("--clip-norm", tf.clip_norm, "global gradient-norm clip (0 = off)");
  train->add_option("--dropout", tf.dropout, "dropout after each conv");
  train->add_option("--label-smoothing", tf.smoothing, "label smoothing");
  train->add_option("--batch-sequences", tf.batch_sequences, "sequences per batch");
  train->add_option("--batch-rows", tf.batch_rows, "row budget per batch (packed rows)");
  train->add_option("--buckets", tf.buckets, "length buckets for batching");
  train->add_option("--accumulation", tf.accumulation, "micro-batches per optimiser step");
  train->add_option("--layout", tf.layout, "batch layout: packed or padded")->check(CLI::IsMember({"packed", "padded"}));
  train->add_option("--log-every", tf.log_every, "steps between progress lines");
  train->add_option("--checkpoint-every", tf.checkpoint_every, "steps between 'last' checkpoints (0 = per epoch)");
  train->add_option("--early-stopping", tf.patience, "epochs without validation gain before stopping (0 = off)");
  train->add_option("--resume", tf.resume,
                    "continue the run saved in this resume file (<out>/last.resume.safetensors); its config is the base")
      ->check(CLI::ExistingFile);
  train->add_option("--on-nonfinite", tf.on_nonfinite, "a step with a non-finite loss or gradient: stop (default) or skip it")
      ->check(CLI::IsMember({"stop", "skip"}));
  train->add_option("--max-length", tf.max_length, "longest record allowed, in positions (0 = no limit)");
  train->add_option("--too-long", tf.too_long, "a record over --max-length: error (default) or crop")
      ->check(CLI::IsMember({"error", "crop"}));
  train->add_flag("--no-test", tf.no_test, "neither read nor score the test split");
  train->add_flag("--quiet", tf.quiet, "no progress lines");

  std::string model_path, data_path, format = "3line", device = "cpu", output, probabilities;
  int threads = 0;
  CLI::App* eval = app.add_subcommand("eval", "accuracy, per-class precision/recall/F1 and confusion matrix");
  eval->add_option("--model", model_path, "checkpoint (.safetensors)")->required();
  eval->add_option("--data", data_path, "labelled file")->required();
  eval->add_option("--format", format, "3line or conll")->capture_default_str();
  eval->add_option("--device", device, "cpu, cuda or auto")->capture_default_str();
  eval->add_option("--threads", threads, "CPU threads (0 = all cores)");

  CLI::App* pred = app.add_subcommand("predict", "a label per position, written in the 3-line format");
  pred->add_option("--model", model_path, "checkpoint (.safetensors)")->required();
  pred->add_option("--input", data_path, "FASTA (or 3-line) file")->required();
  std::string predict_format = "fasta";
  pred->add_option("--format", predict_format, "fasta, 3line or conll")->capture_default_str();
  pred->add_option("--output", output, "output file (default: stdout)");
  pred->add_option("--probabilities", probabilities, "also write per-class probabilities (TSV) here");
  pred->add_option("--device", device, "cpu, cuda or auto")->capture_default_str();
  pred->add_option("--threads", threads, "CPU threads (0 = all cores)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*train) {
      if (!tf.resume.empty() && train->count("--preset") > 0)
        throw ConfigError("--preset cannot be combined with --resume: the run's own config is stored in the resume file");
      return run_train(tf);
    }
    if (*eval) return run_eval(model_path, data_path, format, device, threads);
    if (*pred) return run_predict(model_path, data_path, predict_format, output, probabilities, device, threads);
  } catch (const seqcnn::Error& e) {
    std::cerr << "seqcnn: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "seqcnn: unexpected error: " << e.what() << "\n";
    return 3;
  }
  return 1;
}
