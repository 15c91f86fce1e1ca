// seqcnn_bench_e2e: training throughput (real residues per second, not
// rows) and padding waste of whole training runs, through the public API
// only. One run per (data, model, layout): warm-up epochs, then measured
// epochs whose training steps alone are timed (no evaluation, no files).
//
//   seqcnn_bench_e2e [--device cpu|cuda] [--data ss,synthetic] [--models seed,default,wide]
//                    [--layouts packed,padded] [--epochs N] [--warmup-epochs N] [--threads N]
//                    [--synthetic-tokens N] [--synthetic-dir DIR] [--batch-rows N]
//                    [--run-dir DIR] [--csv FILE] [--md FILE] [--json FILE] [--quick]
//                    [--check-packed-waste FRACTION]
//   seqcnn_bench_e2e --write-synthetic DIR [--synthetic-tokens N]
//
// Exit status: 0 done, 1 a run failed or a waste check did not hold, 2 bad
// usage or no usable device.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench_env.hpp"
#include "e2e_report.hpp"
#include "process_memory.hpp"
#include "seqcnn/seqcnn.hpp"
#include "synthetic_data.hpp"

namespace {

using namespace seqcnn;
using namespace seqcnn::bench;

// CPU seconds this process has used (all threads, user + system).
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// seed and default are the presets; wide is the default recipe with five
// 256-channel layers; width:N is the default recipe with both layers N wide.
TrainConfig model_config(const std::string& model) {
  if (model == "seed" || model == "default") return preset_config(model);
  TrainConfig c = preset_config("default");
  c.preset = model;
  if (model == "wide") {
    c.model.convs.assign(5, ConvLayerConfig{256, 11, 1});
    return c;
  }
  if (model.rfind("width:", 0) == 0) {
    const int width = std::stoi(model.substr(6));
    if (width < 1) throw ConfigError("model '" + model + "': the width must be >= 1");
    c.model.convs.assign(2, ConvLayerConfig{width, 11, 1});
    return c;
  }
  throw ConfigError("unknown model '" + model + "' (expected seed, default, wide or width:N)");
}

struct Options {
  std::string device = "cpu";
  std::string data = "ss,synthetic";
  std::string models = "seed,default,wide";
  std::string layouts = "packed,padded";
  int epochs = 2, warmup_epochs = 1, threads = 0;
  int64_t synthetic_tokens = 0;  // 0: 10M on cuda, 1M on cpu
  int64_t batch_rows = 0;
  std::string synthetic_dir, run_dir, csv_path, md_path, json_path, write_synthetic_dir;
  bool quick = false;
  double check_packed_waste = -1.0;
};

E2eResult run_one(const Options& o, const std::string& data_name, const std::string& data_path,
                  const TrainingData& data, const std::string& model_name, BatchLayout layout) {
  TrainConfig config = model_config(model_name);
  config.data.train_path = data_path;
  config.data.valid_path.clear();
  config.data.test_path.clear();
  config.batch.layout = layout;
  if (o.batch_rows > 0) {
    config.batch.batch_rows = o.batch_rows;
    config.batch.batch_sequences = 0;
  }
  config.run.device = o.device == "cuda" ? DeviceKind::Cuda : DeviceKind::Cpu;
  config.run.threads = o.threads;
  config.run.epochs = o.warmup_epochs + o.epochs;
  config.run.log_every_steps = int64_t{1} << 40;  // one progress report per epoch, at its last step
  config.run.early_stopping_patience = 0;
  config.run.checkpoint_every_steps = 0;
  const std::string name = data_name + "-" + model_name + "-" + std::string(to_string(layout));
  config.run.out_dir.clear();
  if (!o.run_dir.empty()) {
    std::string dir_name = name;
    std::replace(dir_name.begin(), dir_name.end(), ':', '_');
    config.run.out_dir = (std::filesystem::path(o.run_dir) / dir_name).string();
  }
  validate_config(config);

  // Device memory before the trainer allocates anything (the context exists after this call).
  const int64_t device_baseline = o.device == "cuda" ? device_bytes_in_use() : -1;
  Model model = Model::initialize(config.model, data.vocab, data.labels, config.run.seed);
  // The training peak starts here: the data is resident, its reading is over.
  // (The reset also resets getrusage's peak, so the process's peak so far is read first.)
  const int64_t loading_peak = peak_host_rss_bytes();
  const bool training_peak = reset_host_rss_peak();
  Trainer trainer(config, model, data.train, nullptr);
  E2eResult r;
  r.data = data_name;
  r.model = model_name;
  r.layout = std::string(to_string(layout));
  r.tokens_per_epoch = data.train.positions();
  r.records = static_cast<int64_t>(data.train.records.size());
  r.parameters = model.parameter_count();
  r.batch = o.batch_rows > 0 ? std::to_string(o.batch_rows) + " rows"
                             : std::to_string(config.batch.batch_sequences) + " sequences";
  r.run_dir = config.run.out_dir;
  std::vector<double> waste;
  // CPU time between the ends of consecutive epochs: with one thread, a
  // throughput that other processes on the machine hardly disturb.
  double cpu_mark = process_cpu_seconds();
  trainer.on_step([&](const StepProgress& p) {
    const double cpu_now = process_cpu_seconds();
    if (p.epoch > o.warmup_epochs) {
      r.epoch_tokens_per_s.push_back(p.tokens_per_second);
      r.epoch_tokens_per_cpu_s.push_back(static_cast<double>(r.tokens_per_epoch) / std::max(1e-9, cpu_now - cpu_mark));
    }
    cpu_mark = cpu_now;
    r.steps_per_epoch = p.steps_per_epoch;
    // Device buffers only grow during a run, so the end of an epoch sees its peak.
    if (device_baseline >= 0) {
      const int64_t in_use = device_bytes_in_use();
      if (in_use >= 0) r.peak_device_bytes = std::max(r.peak_device_bytes, in_use - device_baseline);
    }
  });
  trainer.on_epoch([&](const EpochReport& e) {
    waste.push_back(e.padding_waste);
    std::cerr << "  " << name << " epoch " << e.epoch << (e.epoch <= o.warmup_epochs ? " (warm-up)" : "") << ": "
              << static_cast<int64_t>(e.tokens_per_second) << " tok/s, waste " << e.padding_waste << "\n";
  });
  const TrainSummary summary = trainer.run();
  r.device = trainer.device_description();
  r.steps = summary.steps;
  r.training_peak_host_rss_bytes = training_peak ? training_peak_host_rss_bytes() : -1;
  r.peak_host_rss_bytes = std::max(loading_peak, peak_host_rss_bytes());
  double sum = 0.0;
  for (double w : waste) sum += w;
  r.padding_waste = waste.empty() ? 0.0 : sum / static_cast<double>(waste.size());
  return r;
}

int run(const Options& o) {
  if (!o.write_synthetic_dir.empty()) {
    SyntheticSpec spec;
    spec.template_path = std::string(SEQCNN_SOURCE_DIR) + "/data/ss/train.ss3.txt";
    spec.min_tokens = o.synthetic_tokens > 0 ? o.synthetic_tokens : 10'000'000;
    std::cout << write_synthetic(o.write_synthetic_dir, spec) << "\n";
    return 0;
  }
  if (o.device == "cuda") {
    // The public API reports a missing GPU as a DeviceError when a run starts;
    // say so before generating any data.
    try {
      DataConfig small;
      small.train_path = std::string(SEQCNN_SOURCE_DIR) + "/data/ss/test.ss3.txt";
      small.valid_path.clear();
      small.test_path.clear();
      const TrainingData tiny = load_training_data(small);
      const Model m = Model::initialize(preset_config("seed").model, tiny.vocab, tiny.labels, 1);
      EvalOptions eo;
      eo.device = DeviceKind::Cuda;
      (void)evaluate(m, tiny.train, eo);
    } catch (const DeviceError& e) {
      std::cerr << "seqcnn_bench_e2e: --device cuda needs a usable GPU: " << e.what() << "\n";
      return 2;
    }
  }

  E2eRunInfo info;
  info.device = o.device;
  info.date = utc_now_iso();
  info.commit = source_commit();
  info.warmup_epochs = o.warmup_epochs;
  info.epochs = o.epochs;

  std::string temp_dir;
  std::vector<std::pair<std::string, std::string>> datasets;  // name, path
  for (const std::string& d : split_list(o.data)) {
    if (d == "ss") {
      datasets.emplace_back("ss", std::string(SEQCNN_SOURCE_DIR) + "/data/ss/train.ss3.txt");
    } else if (d == "synthetic") {
      SyntheticSpec spec;
      spec.template_path = std::string(SEQCNN_SOURCE_DIR) + "/data/ss/train.ss3.txt";
      spec.min_tokens = o.synthetic_tokens > 0 ? o.synthetic_tokens : (o.device == "cuda" ? 10'000'000 : 1'000'000);
      std::string dir = o.synthetic_dir;
      if (dir.empty()) dir = temp_dir = make_temp_dir("seqcnn-synthetic");
      std::cerr << "seqcnn_bench_e2e: writing " << spec.min_tokens << "+ synthetic tokens to " << dir << "\n";
      const std::string path = write_synthetic(dir, spec);
      std::ostringstream label;
      label << "synthetic-" << (spec.min_tokens >= 1'000'000 ? std::to_string(spec.min_tokens / 1'000'000) + "M"
                                                                : std::to_string(spec.min_tokens / 1000) + "k");
      datasets.emplace_back(label.str(), path);
    } else {
      datasets.emplace_back(std::filesystem::path(d).stem().string(), d);
    }
  }

  std::vector<E2eResult> results;
  int status = 0;
  try {
    for (const auto& [data_name, path] : datasets) {
      DataConfig dc;
      dc.train_path = path;
      dc.valid_path.clear();
      dc.test_path.clear();
      const TrainingData data = load_training_data(dc);
      for (const std::string& model : split_list(o.models)) {
        for (const std::string& layout : split_list(o.layouts)) {
          if (layout != "packed" && layout != "padded") throw ConfigError("unknown layout '" + layout + "'");
          results.push_back(run_one(o, data_name, path, data, model,
                                    layout == "padded" ? BatchLayout::Padded : BatchLayout::Packed));
          info.threads = results.back().threads = o.threads;
        }
      }
    }
  } catch (const Error& e) {
    std::cerr << "seqcnn_bench_e2e: " << e.what() << "\n";
    status = 1;
  }
  if (!temp_dir.empty()) std::filesystem::remove_all(temp_dir);

  std::ostringstream md, csv, json;
  write_e2e_markdown(md, info, results);
  write_e2e_csv(csv, info, results);
  write_e2e_json(json, info, results);
  std::cout << md.str();
  auto write = [](const std::string& path, const std::string& text) {
    if (path.empty()) return;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw Error("cannot write " + path);
  };
  write(o.md_path, md.str());
  write(o.csv_path, csv.str());
  write(o.json_path, json.str());

  if (o.check_packed_waste >= 0.0) {
    for (const E2eResult& r : results) {
      if (r.layout == "packed" && r.padding_waste > o.check_packed_waste) {
        std::cerr << "seqcnn_bench_e2e: packed padding waste " << r.padding_waste << " of " << r.data << "/"
                  << r.model << " exceeds " << o.check_packed_waste << "\n";
        status = 1;
      }
    }
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"seqcnn_bench_e2e: training tokens/s and padding waste of whole runs"};
  Options o;
  app.add_option("--device", o.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--data", o.data, "comma list: ss (data/ss/train.ss3.txt), synthetic, or 3-line file paths");
  app.add_option("--models", o.models, "comma list: seed, default, wide (5 x 256, K11), width:N (2 x N, K11)");
  app.add_option("--layouts", o.layouts, "comma list: packed, padded");
  app.add_option("--epochs", o.epochs, "measured epochs per run")->check(CLI::PositiveNumber);
  app.add_option("--warmup-epochs", o.warmup_epochs, "untimed epochs first")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", o.threads, "CPU threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--synthetic-tokens", o.synthetic_tokens, "residues in the synthetic set (default 10M cuda, 1M cpu)");
  app.add_option("--synthetic-dir", o.synthetic_dir, "keep (and reuse) the synthetic file here instead of a temp dir");
  app.add_option("--batch-rows", o.batch_rows, "a row budget per batch instead of the preset's sequence count");
  app.add_option("--run-dir", o.run_dir, "keep each run's train.jsonl and init weights here (for the PyTorch peer)");
  app.add_option("--csv", o.csv_path, "write the results as CSV");
  app.add_option("--md", o.md_path, "write the markdown table (it is always printed)");
  app.add_option("--json", o.json_path, "write the results as JSON");
  app.add_option("--write-synthetic", o.write_synthetic_dir, "only write the synthetic file into this directory");
  app.add_option("--check-packed-waste", o.check_packed_waste, "fail when a packed run wastes more than this fraction");
  app.add_flag("--quick", o.quick, "smoke run: bundled data, seed and default, 1 warm-up + 1 measured epoch");
  CLI11_PARSE(app, argc, argv);
  if (o.quick) {
    o.data = "ss";
    o.models = "seed,default";
    o.warmup_epochs = 1;
    o.epochs = 1;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "seqcnn_bench_e2e: " << e.what() << "\n";
    return 1;
  }
}
