// Parameter layout, PyTorch-default initialisation and state_dict conversion.
#include "seqcnn/model.hpp"

#include <cmath>

#include "common/philox.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Element `index` of tensor `tensor_id` as a uniform double in [0, 1), a
// pure function of the seed: initialisation is identical on every machine.
double init_uniform(uint64_t seed, uint32_t tensor_id, uint64_t index, uint32_t lane) {
  const rng::Philox4 r = rng::philox4x32(static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), tensor_id,
                                         static_cast<uint32_t>(rng::Stream::Init), static_cast<uint32_t>(seed),
                                         static_cast<uint32_t>(seed >> 32));
  return rng::uniform01_double(r.v[2 * lane], r.v[2 * lane + 1]);
}

double init_normal(uint64_t seed, uint32_t tensor_id, uint64_t index) {
  const double u1 = 1.0 - init_uniform(seed, tensor_id, index, 0);  // (0, 1]
  const double u2 = init_uniform(seed, tensor_id, index, 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

// Index into the engine layout of element `torch_index` of a tensor whose
// PyTorch shape is [O][I][K] and engine shape [K][I][O]; identity otherwise.
int64_t engine_index(const ParamInfo& p, int64_t torch_index) {
  if (p.torch_shape.size() != 3) return torch_index;
  const int64_t in = p.torch_shape[1], k = p.torch_shape[2], out = p.torch_shape[0];
  const int64_t o = torch_index / (in * k), i = (torch_index / k) % in, tap = torch_index % k;
  return (tap * in + i) * out + o;
}

}  // namespace

void Model::build_layout() {
  params_.clear();
  const int V = vocab_.size(), E = config_.embed_dim, C = labels_.size();
  int64_t offset = 0;
  auto add = [&](std::string name, std::vector<int64_t> torch_shape, std::vector<int64_t> engine_shape, ParamGroup g) {
    int64_t size = 1;
    for (int64_t d : torch_shape) size *= d;
    params_.push_back(ParamInfo{std::move(name), std::move(torch_shape), std::move(engine_shape), offset, size, g});
    offset += size;
  };
  int in = E;
  for (size_t l = 0; l < config_.convs.size(); ++l) {
    const auto& c = config_.convs[l];
    add("convs." + std::to_string(l) + ".weight", {c.channels, in, c.kernel}, {c.kernel, in, c.channels},
        ParamGroup::Weight);
    in = c.channels;
  }
  add("dense.weight", {C, in}, {C, in}, ParamGroup::Weight);
  add("embed.weight", {V, E}, {V, E}, ParamGroup::Embedding);
  for (size_t l = 0; l < config_.convs.size(); ++l)
    add("convs." + std::to_string(l) + ".bias", {config_.convs[l].channels}, {config_.convs[l].channels},
        ParamGroup::Bias);
  add("dense.bias", {C}, {C}, ParamGroup::Bias);
  flat_.assign(static_cast<size_t>(offset), 0.0f);
}

Model Model::initialize(const ModelConfig& config, Vocabulary vocab, LabelSet labels, uint64_t seed) {
  if (labels.size() < 1) throw ConfigError("model needs at least one label class");
  if (vocab.size() < 2) throw ConfigError("model needs a vocabulary with at least one symbol besides <pad>");
  Model m;
  m.config_ = config;
  m.vocab_ = std::move(vocab);
  m.labels_ = std::move(labels);
  m.build_layout();
  // PyTorch defaults: Embedding N(0, 1) with the pad row zero; Conv1d and
  // Linear weights kaiming_uniform(a = sqrt 5) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
  // biases from the same bound.
  for (uint32_t t = 0; t < m.params_.size(); ++t) {
    const ParamInfo& p = m.params_[t];
    float* dst = m.flat_.data() + p.offset;
    if (p.group == ParamGroup::Embedding) {
      const int64_t E = p.torch_shape[1];
      for (int64_t i = 0; i < p.size; ++i)
        dst[i] = i / E == m.vocab_.pad_id() ? 0.0f : static_cast<float>(init_normal(seed, t, static_cast<uint64_t>(i)));
      continue;
    }
    // fan_in of the layer this tensor belongs to.
    const std::string layer = p.name.substr(0, p.name.rfind('.'));
    const ParamInfo& w = m.param(layer + ".weight");
    int64_t fan_in = 1;
    for (size_t d = 1; d < w.torch_shape.size(); ++d) fan_in *= w.torch_shape[d];
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (int64_t i = 0; i < p.size; ++i) {
      const double u = init_uniform(seed, t, static_cast<uint64_t>(i), 0);
      dst[engine_index(p, i)] = static_cast<float>((2.0 * u - 1.0) * bound);
    }
  }
  return m;
}

const ParamInfo& Model::param(std::string_view name) const {
  for (const auto& p : params_)
    if (p.name == name) return p;
  throw Error("model has no parameter '" + std::string(name) + "'");
}

int64_t Model::weights_end() const { return param("embed.weight").offset; }
int64_t Model::embedding_end() const {
  const ParamInfo& e = param("embed.weight");
  return e.offset + e.size;
}

std::vector<Tensor> Model::state_dict() const {
  // PyTorch's module order: embed, convs, dense.
  std::vector<Tensor> out;
  auto emit = [&](const ParamInfo& p) {
    Tensor t{p.name, p.torch_shape, std::vector<float>(static_cast<size_t>(p.size))};
    for (int64_t i = 0; i < p.size; ++i) t.values[static_cast<size_t>(i)] = flat_[static_cast<size_t>(p.offset + engine_index(p, i))];
    out.push_back(std::move(t));
  };
  emit(param("embed.weight"));
  for (size_t l = 0; l < config_.convs.size(); ++l) {
    emit(param("convs." + std::to_string(l) + ".weight"));
    emit(param("convs." + std::to_string(l) + ".bias"));
  }
  emit(param("dense.weight"));
  emit(param("dense.bias"));
  return out;
}

void Model::load_state_dict(const std::vector<Tensor>& tensors) {
  std::vector<bool> loaded(params_.size(), false);
  for (const Tensor& t : tensors) {
    size_t k = 0;
    while (k < params_.size() && params_[k].name != t.name) ++k;
    if (k == params_.size()) throw CheckpointError("unexpected tensor '" + t.name + "': this model has no such parameter");
    const ParamInfo& p = params_[k];
    if (t.shape != p.torch_shape)
      throw CheckpointError("tensor '" + t.name + "' has shape " + shape_text(t.shape) + ", the model expects " +
                            shape_text(p.torch_shape));
    if (static_cast<int64_t>(t.values.size()) != p.size)
      throw CheckpointError("tensor '" + t.name + "' holds " + std::to_string(t.values.size()) + " values, expected " +
                            std::to_string(p.size));
    for (int64_t i = 0; i < p.size; ++i) flat_[static_cast<size_t>(p.offset + engine_index(p, i))] = t.values[static_cast<size_t>(i)];
    loaded[k] = true;
  }
  for (size_t k = 0; k < params_.size(); ++k)
    if (!loaded[k]) throw CheckpointError("tensor '" + params_[k].name + "' is missing");
}

}  // namespace seqcnn
