// Model checkpoints: safetensors with PyTorch state_dict names and layouts,
// and everything needed to rebuild the model in the metadata.
#include "seqcnn/checkpoint.hpp"

#include <nlohmann/json.hpp>

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

ModelConfig model_config_from(const json& j) {
  ModelConfig m;
  m.embed_dim = j.at("embed_dim").get<int>();
  m.convs.clear();
  for (const json& c : j.at("convs"))
    m.convs.push_back({c.at("channels").get<int>(), c.at("kernel").get<int>(), c.at("dilation").get<int>()});
  m.dropout = j.at("dropout").get<double>();
  if (m.embed_dim < 1 || m.convs.empty()) throw CheckpointError("model config has no embedding or no conv layer");
  for (const auto& c : m.convs)
    if (c.channels < 1 || c.kernel < 1 || c.dilation < 1) throw CheckpointError("model config has a conv layer with a size < 1");
  return m;
}

}  // namespace

void save_checkpoint(const std::string& path, const Model& model, const CheckpointInfo& info) {
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
  if (!info.train_config_json.empty()) meta["train_config"] = json::parse(info.train_config_json);
  file.metadata["format"] = "pt";
  file.metadata["seqcnn"] = meta.dump();
  file.metadata["seqcnn_checksum"] = std::to_string(data_checksum(file));
  write_safetensors(path, file);
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  const StFile file = read_safetensors(path);
  auto meta_it = file.metadata.find("seqcnn");
  if (meta_it == file.metadata.end()) throw CheckpointError(path + ": not a seqcnn checkpoint (no 'seqcnn' metadata)");
  auto sum_it = file.metadata.find("seqcnn_checksum");
  if (sum_it != file.metadata.end() && sum_it->second != std::to_string(data_checksum(file)))
    throw CheckpointError(path + ": tensor data is corrupted (checksum mismatch)");
  LoadedCheckpoint out;
  try {
    const json meta = json::parse(meta_it->second);
    if (meta.at("version").get<int>() != kCheckpointVersion)
      throw CheckpointError(path + ": checkpoint version " + meta.at("version").dump() + ", this build reads version " +
                            std::to_string(kCheckpointVersion));
    const json& v = meta.at("vocab");
    const std::string kind = v.at("kind").get<std::string>();
    if (kind != "protein" && kind != "token") throw CheckpointError(path + ": unknown vocabulary kind '" + kind + "'");
    Vocabulary vocab = Vocabulary::from_symbols(kind == "protein" ? Vocabulary::Kind::Protein : Vocabulary::Kind::Token,
                                                v.at("symbols").get<std::vector<std::string>>());
    const json& l = meta.at("labels");
    LabelSet labels(l.at("symbols").get<std::vector<std::string>>(), l.at("no_label").get<std::string>());
    out.model = Model::initialize(model_config_from(meta.at("model")), std::move(vocab), std::move(labels), 0);
    out.info.step = meta.at("step").get<int64_t>();
    out.info.epoch = meta.at("epoch").get<int>();
    out.info.valid_accuracy = meta.value("valid_accuracy", -1.0);
    if (meta.contains("train_config")) out.info.train_config_json = meta.at("train_config").dump();
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    if (what.rfind(path, 0) == 0) throw;
    throw CheckpointError(path + ": " + what);
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": bad seqcnn metadata: " + e.what());
  }
  std::vector<Tensor> tensors;
  for (const StTensor& t : file.tensors) {
    if (t.dtype != "F32") throw CheckpointError(path + ": tensor '" + t.name + "' is " + t.dtype + ", expected F32");
    tensors.push_back(Tensor{t.name, t.shape, t.as_floats()});
  }
  try {
    out.model.load_state_dict(tensors);
  } catch (const CheckpointError& e) {
    throw CheckpointError(path + ": " + e.what());
  }
  return out;
}

}  // namespace seqcnn
