// Model checkpoints: safetensors with PyTorch state_dict names and layouts,
// and everything needed to rebuild the model in the metadata.
#include "seqcnn/checkpoint.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "io/checkpoint_file.hpp"
#include "io/safetensors.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

using json = nlohmann::json;

namespace {

constexpr int kCheckpointVersion = 1;

json model_config_json(const ModelConfig& m) {
  json convs = json::array();
  for (const auto& c : m.convs) convs.push_back({{"channels", c.channels}, {"kernel", c.kernel}, {"dilation", c.dilation}});
  return {{"embed_dim", m.embed_dim}, {"convs", convs}, {"dropout", m.dropout}};
}

// An integer field within [lo, hi]; a float, a string or an out-of-range
// value is an error (a hostile file must not reach a narrowing cast).
int64_t int_field(const json& j, const char* key, int64_t lo, int64_t hi) {
  const json& v = j.at(key);
  if (!v.is_number_integer()) throw CheckpointError(std::string("metadata '") + key + "' is not an integer: " + v.dump());
  if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(hi) : (v.get<int64_t>() < lo || v.get<int64_t>() > hi))
    throw CheckpointError(std::string("metadata '") + key + "' = " + v.dump() + " is outside [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  return v.get<int64_t>();
}

ModelConfig model_config_from(const json& j) {
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  ModelConfig m;
  m.embed_dim = static_cast<int>(int_field(j, "embed_dim", 1, kIntMax));
  m.convs.clear();
  const json& convs = j.at("convs");
  if (!convs.is_array() || convs.empty()) throw CheckpointError("model config has no conv layer");
  for (const json& c : convs) {
    ConvLayerConfig layer{static_cast<int>(int_field(c, "channels", 1, kIntMax)), static_cast<int>(int_field(c, "kernel", 1, kIntMax)),
                          static_cast<int>(int_field(c, "dilation", 1, kIntMax))};
    if (static_cast<int64_t>(layer.dilation) * (layer.kernel - 1) > kMaxConvReach)
      throw CheckpointError("model config has a conv layer reaching beyond " + std::to_string(kMaxConvReach) + " rows");
    m.convs.push_back(layer);
  }
  const json& dropout = j.at("dropout");
  if (!dropout.is_number() || !(dropout.get<double>() >= 0.0 && dropout.get<double>() < 1.0))
    throw CheckpointError("model config dropout " + dropout.dump() + " is not in [0, 1)");
  m.dropout = dropout.get<double>();
  return m;
}

// a * b, or -1 once the product passes 2^62 (no model is that large).
int64_t product_or_overflow(int64_t a, int64_t b) {
  constexpr int64_t kLimit = int64_t{1} << 62;
  if (a < 0 || b < 0 || (b != 0 && a > kLimit / b)) return -1;
  return a * b;
}

// Parameters the model described by the metadata has; -1 when absurd.
int64_t parameter_count(const ModelConfig& m, int64_t vocab, int64_t classes) {
  int64_t total = product_or_overflow(vocab, m.embed_dim), in = m.embed_dim;
  auto add = [&](int64_t n) { total = (total < 0 || n < 0 || n > (int64_t{1} << 62) - total) ? -1 : total + n; };
  for (const auto& c : m.convs) {
    add(product_or_overflow(product_or_overflow(c.channels, in), c.kernel));
    add(c.channels);
    in = c.channels;
  }
  add(product_or_overflow(classes, in));
  add(classes);
  return total;
}

std::string conv_list(const ModelConfig& m) {
  std::string s;
  for (const auto& c : m.convs)
    s += (s.empty() ? "" : ", ") + std::to_string(c.channels) + "ch k" + std::to_string(c.kernel) +
         (c.dilation > 1 ? " d" + std::to_string(c.dilation) : "");
  return s;
}

std::string architecture_text(const ModelConfig& m) {
  return "embedding " + std::to_string(m.embed_dim) + ", convs [" + conv_list(m) + "]";
}

std::string symbol_list(const std::vector<std::string>& symbols) {
  std::string s;
  for (const auto& x : symbols) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

StFile checkpoint_file(const Model& model, const CheckpointInfo& info) {
  StFile file;
  for (const Tensor& t : model.state_dict()) file.tensors.push_back(make_f32_tensor(t.name, t.shape, t.values));
  json meta = {
      {"version", kCheckpointVersion},
      {"model", model_config_json(model.config())},
      {"vocab",
       {{"kind", model.vocab().kind() == Vocabulary::Kind::Protein ? "protein" : "token"},
        {"symbols", model.vocab().symbols()}}},
      {"labels", {{"symbols", model.labels().symbols()}, {"no_label", model.labels().no_label()}}},
      {"step", info.step},
      {"epoch", info.epoch},
      {"valid_accuracy", info.valid_accuracy},
  };
  if (!info.train_config_json.empty()) {
    try {
      meta["train_config"] = json::parse(info.train_config_json);
    } catch (const json::exception& e) {
      throw ConfigError(std::string("CheckpointInfo::train_config_json is not JSON: ") + e.what());
    }
  }
  file.metadata["format"] = "pt";
  file.metadata["seqcnn"] = meta.dump();
  return file;
}

void write_checkpoint_file(const std::string& path, StFile& file) {
  file.metadata["seqcnn_checksum"] = std::to_string(data_checksum(file));
  write_safetensors(path, file);
}

void save_checkpoint(const std::string& path, const Model& model, const CheckpointInfo& info) {
  StFile file = checkpoint_file(model, info);
  write_checkpoint_file(path, file);
}

LoadedCheckpoint checkpoint_from_file(const StFile& file, const std::string& source, std::string_view skip_prefix) {
  auto meta_it = file.metadata.find("seqcnn");
  if (meta_it == file.metadata.end()) throw CheckpointError(source + ": not a seqcnn checkpoint (no 'seqcnn' metadata)");
  // Every checkpoint this format version writes has a checksum: one without
  // it has lost it to damage (a flipped byte in its key), not to age.
  auto sum_it = file.metadata.find("seqcnn_checksum");
  if (sum_it == file.metadata.end())
    throw CheckpointError(source + ": damaged: no 'seqcnn_checksum' metadata, so the tensor data cannot be verified");
  if (sum_it->second != std::to_string(data_checksum(file)))
    throw CheckpointError(source + ": tensor data is corrupted (checksum mismatch)");
  auto is_model_tensor = [&](const StTensor& t) {
    return skip_prefix.empty() || std::string_view(t.name).substr(0, skip_prefix.size()) != skip_prefix;
  };
  int64_t stored_values = 0;
  for (const StTensor& t : file.tensors) {
    if (!is_model_tensor(t)) continue;
    if (t.dtype != "F32") throw CheckpointError(source + ": tensor '" + t.name + "' is " + t.dtype + ", expected F32");
    stored_values += t.elements();
  }
  LoadedCheckpoint out;
  try {
    const json meta = json::parse(meta_it->second);
    if (!meta.is_object()) throw CheckpointError("the 'seqcnn' metadata is not a JSON object");
    const int64_t version = int_field(meta, "version", std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
    if (version != kCheckpointVersion)
      throw CheckpointError("checkpoint version " + std::to_string(version) + ", this build reads version " +
                            std::to_string(kCheckpointVersion));
    const json& v = meta.at("vocab");
    const std::string kind = v.at("kind").get<std::string>();
    if (kind != "protein" && kind != "token") throw CheckpointError("unknown vocabulary kind '" + kind + "'");
    Vocabulary vocab = Vocabulary::from_symbols(kind == "protein" ? Vocabulary::Kind::Protein : Vocabulary::Kind::Token,
                                                v.at("symbols").get<std::vector<std::string>>());
    const json& l = meta.at("labels");
    LabelSet labels(l.at("symbols").get<std::vector<std::string>>(), l.at("no_label").get<std::string>());
    const ModelConfig config = model_config_from(meta.at("model"));
    // Sizes come from the metadata: check them against the tensors actually
    // stored before allocating anything.
    const int64_t expected = parameter_count(config, vocab.size(), labels.size());
    if (expected != stored_values)
      throw CheckpointError("architecture mismatch: the metadata describes " + architecture_text(config) + " with " +
                            std::to_string(vocab.size()) + " symbols and " + std::to_string(labels.size()) +
                            " classes (" + (expected < 0 ? std::string("an impossible size") : std::to_string(expected) + " parameters") +
                            "), the file stores " + std::to_string(stored_values) + " values");
    out.model = Model::initialize(config, std::move(vocab), std::move(labels), 0);
    out.info.step = int_field(meta, "step", 0, std::numeric_limits<int64_t>::max());
    out.info.epoch = static_cast<int>(int_field(meta, "epoch", 0, std::numeric_limits<int>::max()));
    out.info.valid_accuracy = meta.value("valid_accuracy", -1.0);
    if (meta.contains("train_config")) out.info.train_config_json = meta.at("train_config").dump();
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    if (what.rfind(source, 0) == 0) throw;
    throw CheckpointError(source + ": " + what);
  } catch (const std::exception& e) {
    throw CheckpointError(source + ": bad seqcnn metadata: " + e.what());
  }
  std::vector<Tensor> tensors;
  for (const StTensor& t : file.tensors)
    if (is_model_tensor(t)) tensors.push_back(Tensor{t.name, t.shape, t.as_floats()});
  try {
    out.model.load_state_dict(tensors);
  } catch (const CheckpointError& e) {
    throw CheckpointError(source + ": architecture mismatch: " + e.what());
  }
  return out;
}

namespace {

// A resume file holds the model too: its optimiser tensors are left aside,
// so eval and predict can use it like last.safetensors.
LoadedCheckpoint model_from_file(const StFile& file, const std::string& source) {
  const bool resume_file = file.metadata.count("seqcnn_resume") > 0;
  return checkpoint_from_file(file, source, resume_file ? kOptimizerTensorPrefix : std::string_view{});
}

}  // namespace

LoadedCheckpoint load_checkpoint_from_bytes(std::span<const unsigned char> bytes, const std::string& source) {
  return model_from_file(parse_safetensors(bytes, source), source);
}

LoadedCheckpoint load_checkpoint(const std::string& path) { return model_from_file(read_safetensors(path), path); }

void check_same_model(const Model& stored, const Model& expected, const std::string& source) {
  std::string differences;
  auto differ = [&](const std::string& what) { differences += (differences.empty() ? "" : "; ") + what; };
  const ModelConfig &a = stored.config(), &b = expected.config();
  bool same_arch = a.embed_dim == b.embed_dim && a.convs.size() == b.convs.size();
  for (size_t i = 0; same_arch && i < a.convs.size(); ++i)
    same_arch = a.convs[i].channels == b.convs[i].channels && a.convs[i].kernel == b.convs[i].kernel &&
                a.convs[i].dilation == b.convs[i].dilation;
  if (!same_arch)
    differ("architecture differs: the checkpoint has " + architecture_text(a) + ", the config asks for " + architecture_text(b));
  const Vocabulary &va = stored.vocab(), &vb = expected.vocab();
  if (!(va == vb)) {
    auto kind = [](const Vocabulary& v) { return v.kind() == Vocabulary::Kind::Protein ? std::string("protein alphabet") : "token vocabulary"; };
    std::string detail = "the checkpoint has a " + kind(va) + " of " + std::to_string(va.size()) + " symbols, the data a " +
                         kind(vb) + " of " + std::to_string(vb.size());
    const size_t n = std::min(va.symbols().size(), vb.symbols().size());
    for (size_t i = 0; i < n; ++i) {
      if (va.symbols()[i] != vb.symbols()[i]) {
        detail += "; first difference at id " + std::to_string(i) + ": '" + va.symbols()[i] + "' vs '" + vb.symbols()[i] + "'";
        break;
      }
    }
    differ("vocabulary differs: " + detail);
  }
  if (!(stored.labels() == expected.labels()))
    differ("label set differs: the checkpoint has [" + symbol_list(stored.labels().symbols()) + "] (no-label '" +
           stored.labels().no_label() + "'), the data and config give [" + symbol_list(expected.labels().symbols()) +
           "] (no-label '" + expected.labels().no_label() + "')");
  if (!differences.empty()) throw CheckpointError(source + ": the checkpoint does not match this run: " + differences);
}

}  // namespace seqcnn
