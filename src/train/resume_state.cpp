#include "train/resume_state.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/checkpoint_file.hpp"
#include "io/safetensors.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

using json = nlohmann::json;

namespace {

constexpr int kResumeVersion = 1;
constexpr const char* kExpAvg = "optimizer.exp_avg";
constexpr const char* kExpAvgSq = "optimizer.exp_avg_sq";

// Config keys (JSON pointers) a resumed run may change.
constexpr std::string_view kMayChange[] = {
    "/preset",          "/run/epochs",     "/run/threads",
    "/run/device",      "/run/log_every",  "/run/checkpoint_every",
    "/run/out_dir",     "/run/nonfinite",  "/run/early_stopping_patience",
    "/data/train",      "/data/valid",     "/data/test",
};

// Counters are integers in [0, hi]; the default bound leaves room to add
// three of them without overflow. A float, a string or a negative value is
// refused before any conversion (a hostile file must not reach a cast).
int64_t counter(const json& j, const char* key, int64_t hi = std::numeric_limits<int64_t>::max() / 4) {
  const json& v = j.at(key);
  if (!v.is_number_integer()) throw CheckpointError(std::string("resume metadata '") + key + "' is not an integer: " + v.dump());
  const bool in_range = v.is_number_unsigned() ? v.get<uint64_t>() <= static_cast<uint64_t>(hi)
                                               : v.get<int64_t>() >= 0 && v.get<int64_t>() <= hi;
  if (!in_range)
    throw CheckpointError(std::string("resume metadata '") + key + "' = " + v.dump() + " is outside [0, " + std::to_string(hi) + "]");
  return v.get<int64_t>();
}

double number(const json& j, const char* key) {
  const json& v = j.at(key);
  if (!v.is_number()) throw CheckpointError(std::string("resume metadata '") + key + "' is not a number: " + v.dump());
  return v.get<double>();
}

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

LoadedResume load_resume_file(const std::string& path) { return resume_from_file(read_safetensors(path), path); }

LoadedResume resume_from_file(const StFile& file, const std::string& path) {
  auto it = file.metadata.find("seqcnn_resume");
  if (it == file.metadata.end())
    throw CheckpointError(path + ": not a resume file (no 'seqcnn_resume' metadata); a run resumes from "
                                 "<out>/last.resume.safetensors, last.safetensors holds the weights only");
  LoadedResume out;
  out.checkpoint = checkpoint_from_file(file, path, kOptimizerTensorPrefix);
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
    if (t.name.rfind(kOptimizerTensorPrefix, 0) == 0 && t.name != kExpAvg && t.name != kExpAvgSq)
      throw CheckpointError(path + ": unexpected tensor '" + t.name + "'");
  ResumeState& s = out.state;
  try {
    const json j = json::parse(it->second);
    if (!j.is_object()) throw CheckpointError("the 'seqcnn_resume' metadata is not a JSON object");
    const int64_t version = counter(j, "version", std::numeric_limits<int>::max());
    if (version != kResumeVersion)
      throw CheckpointError("resume format version " + std::to_string(version) + ", this build reads version " +
                            std::to_string(kResumeVersion));
    constexpr int64_t kIntMax = std::numeric_limits<int>::max();
    s.epoch = static_cast<int>(counter(j, "epoch", kIntMax));
    s.next_step = counter(j, "next_step");
    s.train_step_calls = counter(j, "train_step_calls");
    s.micro_batches = counter(j, "micro_batches");
    s.steps_taken = counter(j, "steps_taken");
    s.steps_skipped = counter(j, "steps_skipped");
    s.nonfinite_steps = counter(j, "nonfinite_steps");
    s.best_valid_accuracy = number(j, "best_valid_accuracy");
    s.best_epoch = static_cast<int>(counter(j, "best_epoch", kIntMax));
    s.epochs_without_gain = static_cast<int>(counter(j, "epochs_without_gain", kIntMax));
    const json& e = j.at("epoch_totals");
    s.epoch_loss_sum = number(e, "loss_sum");
    s.epoch_steps = counter(e, "steps");
    s.epoch_counted = counter(e, "counted");
    s.epoch_correct = counter(e, "correct");
    s.epoch_tokens = counter(e, "tokens");
    s.train_fingerprint = j.at("train_fingerprint").get<std::string>();
    s.train_records = counter(j, "train_records");
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
  // The cosine schedule spans every step of the run: another epoch count
  // changes the learning rate of the steps still to come. A constant one
  // (warmup included) depends on the steps taken only.
  if (stored.run.epochs != now.run.epochs && (stored.optim.schedule == LrSchedule::Cosine || now.optim.schedule == LrSchedule::Cosine))
    differences += std::string(differences.empty() ? "" : "; ") + "run.epochs was " + std::to_string(stored.run.epochs) +
                   ", now " + std::to_string(now.run.epochs) + " (the cosine learning-rate schedule spans all epochs)";
  if (!differences.empty())
    throw CheckpointError(source + ": the config differs from the run being resumed, which would not continue it exactly: " +
                          differences);
}

}  // namespace seqcnn
