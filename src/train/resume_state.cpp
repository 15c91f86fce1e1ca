#include "train/resume_state.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "io/checkpoint_file.hpp"
#include "io/safetensors.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

using json = nlohmann::json;

namespace {

constexpr int kResumeVersion = 1;
constexpr const char* kOptimPrefix = "optimizer.";
constexpr const char* kExpAvg = "optimizer.exp_avg";
constexpr const char* kExpAvgSq = "optimizer.exp_avg_sq";

// Config keys (JSON pointers) a resumed run may change.
constexpr std::string_view kMayChange[] = {
    "/preset",          "/run/epochs",     "/run/threads",
    "/run/device",      "/run/log_every",  "/run/checkpoint_every",
    "/run/out_dir",     "/run/nonfinite",  "/run/early_stopping_patience",
    "/data/train",      "/data/valid",     "/data/test",
};

uint64_t fnv1a(uint64_t h, int64_t x) {
  for (int i = 0; i < 8; ++i) h = (h ^ static_cast<uint64_t>((x >> (8 * i)) & 0xff)) * 1099511628211ull;
  return h;
}

}  // namespace

std::string dataset_fingerprint(const Dataset& data) {
  uint64_t h = 1469598103934665603ull;
  h = fnv1a(h, static_cast<int64_t>(data.records.size()));
  for (const Record& r : data.records) {
    h = fnv1a(h, r.length());
    for (int32_t t : r.tokens) h = fnv1a(h, t);
    h = fnv1a(h, static_cast<int64_t>(r.labels.size()));
    for (int32_t l : r.labels) h = fnv1a(h, l);
  }
  return std::to_string(h);
}

void save_resume_file(const std::string& path, const Model& model, const CheckpointInfo& info, const ResumeState& s) {
  StFile file = checkpoint_file(model, info);
  file.tensors.push_back(make_f32_tensor(kExpAvg, {static_cast<int64_t>(s.m.size())}, s.m));
  file.tensors.push_back(make_f32_tensor(kExpAvgSq, {static_cast<int64_t>(s.v.size())}, s.v));
  const json position = {
      {"version", kResumeVersion},
      {"epoch", s.epoch},
      {"next_step", s.next_step},
      {"train_step_calls", s.train_step_calls},
      {"micro_batches", s.micro_batches},
      {"steps_taken", s.steps_taken},
      {"steps_skipped", s.steps_skipped},
      {"nonfinite_steps", s.nonfinite_steps},
      {"best_valid_accuracy", s.best_valid_accuracy},
      {"best_epoch", s.best_epoch},
      {"epochs_without_gain", s.epochs_without_gain},
      {"epoch_totals",
       {{"loss_sum", s.epoch_loss_sum},
        {"steps", s.epoch_steps},
        {"counted", s.epoch_counted},
        {"correct", s.epoch_correct},
        {"tokens", s.epoch_tokens}}},
      {"train_fingerprint", s.train_fingerprint},
      {"train_records", s.train_records},
  };
  file.metadata["seqcnn_resume"] = position.dump();
  write_checkpoint_file(path, file);
}

LoadedResume load_resume_file(const std::string& path) {
  const StFile file = read_safetensors(path);
  auto it = file.metadata.find("seqcnn_resume");
  if (it == file.metadata.end())
    throw CheckpointError(path + ": not a resume file (no 'seqcnn_resume' metadata); a run resumes from "
                                 "<out>/last.resume.safetensors, last.safetensors holds the weights only");
  LoadedResume out;
  out.checkpoint = checkpoint_from_file(file, path, kOptimPrefix);
  if (out.checkpoint.info.train_config_json.empty()) throw CheckpointError(path + ": the resume file holds no run config");
  const auto P = static_cast<size_t>(out.checkpoint.model.parameter_count());
  for (const char* name : {kExpAvg, kExpAvgSq}) {
    const StTensor* t = file.find(name);
    if (t == nullptr) throw CheckpointError(path + ": tensor '" + name + "' is missing");
    if (t->dtype != "F32" || t->shape.size() != 1 || static_cast<size_t>(t->elements()) != P)
      throw CheckpointError(path + ": tensor '" + std::string(name) + "' must be F32 [" + std::to_string(P) + "]");
    (name == std::string(kExpAvg) ? out.state.m : out.state.v) = t->as_floats();
  }
  for (const StTensor& t : file.tensors)
    if (t.name.rfind(kOptimPrefix, 0) == 0 && t.name != kExpAvg && t.name != kExpAvgSq)
      throw CheckpointError(path + ": unexpected tensor '" + t.name + "'");
  ResumeState& s = out.state;
  try {
    const json j = json::parse(it->second);
    if (j.at("version").get<int>() != kResumeVersion)
      throw CheckpointError("resume format version " + j.at("version").dump() + ", this build reads version " +
                            std::to_string(kResumeVersion));
    s.epoch = j.at("epoch").get<int>();
    s.next_step = j.at("next_step").get<int64_t>();
    s.train_step_calls = j.at("train_step_calls").get<int64_t>();
    s.micro_batches = j.at("micro_batches").get<int64_t>();
    s.steps_taken = j.at("steps_taken").get<int64_t>();
    s.steps_skipped = j.at("steps_skipped").get<int64_t>();
    s.nonfinite_steps = j.at("nonfinite_steps").get<int64_t>();
    s.best_valid_accuracy = j.at("best_valid_accuracy").get<double>();
    s.best_epoch = j.at("best_epoch").get<int>();
    s.epochs_without_gain = j.at("epochs_without_gain").get<int>();
    const json& e = j.at("epoch_totals");
    s.epoch_loss_sum = e.at("loss_sum").get<double>();
    s.epoch_steps = e.at("steps").get<int64_t>();
    s.epoch_counted = e.at("counted").get<int64_t>();
    s.epoch_correct = e.at("correct").get<int64_t>();
    s.epoch_tokens = e.at("tokens").get<int64_t>();
    s.train_fingerprint = j.at("train_fingerprint").get<std::string>();
    s.train_records = j.at("train_records").get<int64_t>();
  } catch (const CheckpointError& e) {
    throw CheckpointError(path + ": " + e.what());
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": bad resume metadata: " + e.what());
  }
  const bool sane = s.epoch >= 1 && s.next_step >= 0 && s.train_step_calls >= 0 && s.micro_batches >= 0 &&
                    s.steps_taken >= 0 && s.steps_skipped >= 0 && s.nonfinite_steps >= 0 && s.best_epoch >= 0 &&
                    s.epochs_without_gain >= 0 && s.steps_taken + s.steps_skipped + s.nonfinite_steps == s.train_step_calls;
  if (!sane) throw CheckpointError(path + ": the resume position is inconsistent (negative counters, or steps that do not add up)");
  if (s.steps_taken != out.checkpoint.info.step)
    throw CheckpointError(path + ": the resume position says " + std::to_string(s.steps_taken) + " steps, the checkpoint " +
                          std::to_string(out.checkpoint.info.step));
  return out;
}

void check_resumable_config(const TrainConfig& stored, const TrainConfig& now, const std::string& source) {
  const json a = json::parse(config_to_json(stored)), b = json::parse(config_to_json(now));
  std::string differences;
  for (const json& op : json::diff(a, b)) {
    const std::string key = op.at("path").get<std::string>();
    const bool allowed = std::any_of(std::begin(kMayChange), std::end(kMayChange), [&](std::string_view k) {
      return key == k || (key.size() > k.size() && key.compare(0, k.size(), k) == 0 && key[k.size()] == '/');
    });
    if (allowed) continue;
    const json::json_pointer ptr(key);
    const std::string was = a.contains(ptr) ? a.at(ptr).dump() : "(absent)";
    const std::string is = b.contains(ptr) ? b.at(ptr).dump() : "(absent)";
    std::string dotted = key.substr(1);
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    differences += (differences.empty() ? "" : "; ") + dotted + " was " + was + ", now " + is;
  }
  if (!differences.empty())
    throw CheckpointError(source + ": the config differs from the run being resumed, which would not continue it exactly: " +
                          differences);
}

}  // namespace seqcnn
