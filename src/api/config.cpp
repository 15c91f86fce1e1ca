// Presets, validation and the JSON form of TrainConfig.
#include "seqcnn/config.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/op_math.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

using json = nlohmann::json;

int ModelConfig::halo_rows() const {
  int halo = 0;
  for (const auto& c : convs) halo = std::max(halo, math::conv_reach_right(c.kernel, c.dilation));
  return halo;
}

std::string_view to_string(Reduction r) {
  switch (r) {
    case Reduction::TokenMean: return "token_mean";
    case Reduction::Sum: return "sum";
    case Reduction::SequenceMean: return "sequence_mean";
  }
  return "?";
}
std::string_view to_string(BatchLayout l) { return l == BatchLayout::Packed ? "packed" : "padded"; }
std::string_view to_string(DeviceKind d) {
  switch (d) {
    case DeviceKind::Cpu: return "cpu";
    case DeviceKind::Cuda: return "cuda";
    case DeviceKind::Auto: return "auto";
  }
  return "?";
}
std::string_view to_string(InputFormat f) {
  switch (f) {
    case InputFormat::ThreeLine: return "3line";
    case InputFormat::Fasta: return "fasta";
    case InputFormat::Conll: return "conll";
  }
  return "?";
}
std::string_view to_string(LrSchedule s) { return s == LrSchedule::Constant ? "constant" : "cosine"; }
std::string_view to_string(TooLong t) { return t == TooLong::Error ? "error" : "crop"; }
std::string_view to_string(NonFinitePolicy p) { return p == NonFinitePolicy::Stop ? "stop" : "skip"; }

TrainConfig preset_config(std::string_view name) {
  TrainConfig c;
  c.preset = std::string(name);
  if (name == "seed") {
    // The reference recipe: embedding 32, one conv of 64 channels (kernel 3),
    // dense; Adam lr 1e-3, no decay, clipping or smoothing; 32 sequences per
    // batch; 20 epochs.
    return c;
  }
  if (name == "default") {
    // Chosen by validation accuracy among 13 candidates (docs/accuracy.md):
    // two wide conv layers with a 21-residue receptive field, strong dropout
    // and decoupled weight decay, because the training set is small and
    // dominated by two protein families.
    c.model.embed_dim = 32;
    c.model.convs = {ConvLayerConfig{128, 11, 1}, ConvLayerConfig{128, 11, 1}};
    c.model.dropout = 0.4;
    c.optim.lr = 2e-3;
    c.optim.weight_decay = 0.05;
    c.optim.clip_norm = 1.0;
    c.optim.schedule = LrSchedule::Cosine;
    c.optim.warmup_steps = 50;
    c.optim.min_lr_ratio = 0.05;
    c.batch.batch_sequences = 16;
    c.run.epochs = 30;
    return c;
  }
  throw ConfigError("unknown preset '" + std::string(name) + "' (expected 'seed' or 'default')");
}

namespace {

[[noreturn]] void fail(std::string_view source, const std::string& key, const std::string& what) {
  throw ConfigError(std::string(source) + ": '" + key + "': " + what);
}

// Reads typed values out of a JSON object, rejecting unknown keys and wrong types.
class Reader {
 public:
  Reader(const json& object, std::string_view source, std::string prefix)
      : object_(object), source_(source), prefix_(std::move(prefix)) {
    if (!object_.is_object()) fail(source_, prefix_.empty() ? "(top level)" : prefix_, "expected a JSON object");
  }
  ~Reader() = default;

  void check_no_unknown_keys() const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (std::find(seen_.begin(), seen_.end(), it.key()) == seen_.end())
        fail(source_, key(it.key()), "unknown key");
    }
  }
  std::string key(const std::string& name) const { return prefix_.empty() ? name : prefix_ + "." + name; }
  const json* find(const std::string& name) {
    seen_.push_back(name);
    auto it = object_.find(name);
    return it == object_.end() ? nullptr : &*it;
  }
  template <class Int>
  void integer(const std::string& name, Int& out, long long min_value) {
    if (const json* v = find(name)) {
      if (!v->is_number_integer()) fail(source_, key(name), "expected an integer, got " + v->dump());
      // An unsigned value beyond long long's range would wrap: reject it as too large.
      const long long max_value = static_cast<long long>(std::numeric_limits<Int>::max());
      if (v->is_number_unsigned() && v->get<unsigned long long>() > static_cast<unsigned long long>(max_value))
        fail(source_, key(name), "expected an integer <= " + std::to_string(max_value) + ", got " + v->dump());
      const long long x = v->get<long long>();
      if (x < min_value) fail(source_, key(name), "expected an integer >= " + std::to_string(min_value) + ", got " + std::to_string(x));
      if (x > max_value) fail(source_, key(name), "expected an integer <= " + std::to_string(max_value) + ", got " + std::to_string(x));
      out = static_cast<Int>(x);
    }
  }
  void number(const std::string& name, double& out, double min_value, double max_value) {
    if (const json* v = find(name)) {
      if (!v->is_number()) fail(source_, key(name), "expected a number, got " + v->dump());
      const double x = v->get<double>();
      if (!(x >= min_value && x <= max_value) || !std::isfinite(x)) {
        std::ostringstream msg;
        msg << "expected a number in [" << min_value << ", " << max_value << "], got " << v->dump();
        fail(source_, key(name), msg.str());
      }
      out = x;
    }
  }
  void boolean(const std::string& name, bool& out) {
    if (const json* v = find(name)) {
      if (!v->is_boolean()) fail(source_, key(name), "expected true or false, got " + v->dump());
      out = v->get<bool>();
    }
  }
  void string(const std::string& name, std::string& out) {
    if (const json* v = find(name)) {
      if (!v->is_string()) fail(source_, key(name), "expected a string, got " + v->dump());
      out = v->get<std::string>();
    }
  }
  template <class Enum>
  void choice(const std::string& name, Enum& out, std::initializer_list<std::pair<std::string_view, Enum>> options) {
    if (const json* v = find(name)) {
      std::string expected;
      if (v->is_string()) {
        for (const auto& [text, value] : options) {
          if (v->get<std::string>() == text) {
            out = value;
            return;
          }
        }
      }
      for (const auto& [text, value] : options) expected += (expected.empty() ? "'" : ", '") + std::string(text) + "'";
      fail(source_, key(name), "expected one of " + expected + ", got " + v->dump());
    }
  }
  std::string_view source() const { return source_; }

 private:
  const json& object_;
  std::string_view source_;
  std::string prefix_;
  std::vector<std::string> seen_;
};

void read_model(const json& j, std::string_view source, ModelConfig& m) {
  Reader r(j, source, "model");
  r.integer("embed_dim", m.embed_dim, 1);
  if (const json* convs = r.find("convs")) {
    if (!convs->is_array() || convs->empty()) fail(source, "model.convs", "expected a non-empty array of conv layers");
    m.convs.clear();
    for (size_t i = 0; i < convs->size(); ++i) {
      ConvLayerConfig layer;
      Reader lr((*convs)[i], source, "model.convs[" + std::to_string(i) + "]");
      lr.integer("channels", layer.channels, 1);
      lr.integer("kernel", layer.kernel, 1);
      lr.integer("dilation", layer.dilation, 1);
      std::string padding = "same";
      lr.string("padding", padding);
      if (padding != "same")
        fail(source, lr.key("padding"),
             "only 'same' padding is offered (a '" + padding + "' convolution would misalign outputs and labels)");
      lr.check_no_unknown_keys();
      m.convs.push_back(layer);
    }
  }
  r.number("dropout", m.dropout, 0.0, 0.95);
  r.check_no_unknown_keys();
}

void read_loss(const json& j, std::string_view source, LossConfig& l) {
  Reader r(j, source, "loss");
  r.choice("reduction", l.reduction,
           {{"token_mean", Reduction::TokenMean}, {"sum", Reduction::Sum}, {"sequence_mean", Reduction::SequenceMean}});
  r.number("label_smoothing", l.label_smoothing, 0.0, 1.0);
  if (const json* w = r.find("class_weights")) {
    if (!w->is_array()) fail(source, "loss.class_weights", "expected an array of numbers");
    l.class_weights.clear();
    for (size_t i = 0; i < w->size(); ++i) {
      const json& x = (*w)[i];
      if (!x.is_number()) fail(source, "loss.class_weights[" + std::to_string(i) + "]", "expected a number, got " + x.dump());
      l.class_weights.push_back(x.get<double>());
    }
  }
  r.check_no_unknown_keys();
}

void read_optim(const json& j, std::string_view source, OptimConfig& o) {
  Reader r(j, source, "optim");
  r.number("lr", o.lr, 0.0, 10.0);
  r.number("beta1", o.beta1, 0.0, 0.999999);
  r.number("beta2", o.beta2, 0.0, 0.999999999);
  r.number("eps", o.eps, 0.0, 1.0);
  r.number("weight_decay", o.weight_decay, 0.0, 10.0);
  r.boolean("decay_embedding", o.decay_embedding);
  r.boolean("decay_bias", o.decay_bias);
  r.number("clip_norm", o.clip_norm, 0.0, 1e30);
  r.choice("schedule", o.schedule, {{"constant", LrSchedule::Constant}, {"cosine", LrSchedule::Cosine}});
  r.integer("warmup_steps", o.warmup_steps, 0);
  r.number("min_lr_ratio", o.min_lr_ratio, 0.0, 1.0);
  r.check_no_unknown_keys();
}

void read_batch(const json& j, std::string_view source, BatchConfig& b) {
  Reader r(j, source, "batch");
  r.choice("layout", b.layout, {{"packed", BatchLayout::Packed}, {"padded", BatchLayout::Padded}});
  r.integer("sequences", b.batch_sequences, 0);
  r.integer("rows", b.batch_rows, 0);
  r.integer("buckets", b.buckets, 1);
  r.integer("accumulation", b.accumulation, 1);
  r.check_no_unknown_keys();
}

void read_data(const json& j, std::string_view source, DataConfig& d) {
  Reader r(j, source, "data");
  r.choice("format", d.format,
           {{"3line", InputFormat::ThreeLine}, {"fasta", InputFormat::Fasta}, {"conll", InputFormat::Conll}});
  r.string("train", d.train_path);
  r.string("valid", d.valid_path);
  r.string("test", d.test_path);
  r.string("labels", d.labels);
  r.string("no_label", d.no_label);
  r.integer("min_token_freq", d.min_token_freq, 1);
  r.integer("max_length", d.max_length, 0);
  r.choice("too_long", d.too_long, {{"error", TooLong::Error}, {"crop", TooLong::Crop}});
  r.check_no_unknown_keys();
}

void read_run(const json& j, std::string_view source, RunConfig& run) {
  Reader r(j, source, "run");
  r.integer("epochs", run.epochs, 0);
  if (const json* s = r.find("seed")) {
    if (!s->is_number_unsigned() && !(s->is_number_integer() && s->get<long long>() >= 0))
      fail(source, "run.seed", "expected a non-negative integer, got " + s->dump());
    run.seed = s->get<uint64_t>();
  }
  r.integer("threads", run.threads, 0);
  r.choice("device", run.device, {{"cpu", DeviceKind::Cpu}, {"cuda", DeviceKind::Cuda}, {"auto", DeviceKind::Auto}});
  r.integer("log_every", run.log_every_steps, 1);
  r.integer("checkpoint_every", run.checkpoint_every_steps, 0);
  r.integer("early_stopping_patience", run.early_stopping_patience, 0);
  r.choice("nonfinite", run.nonfinite, {{"stop", NonFinitePolicy::Stop}, {"skip", NonFinitePolicy::Skip}});
  r.string("out_dir", run.out_dir);
  r.check_no_unknown_keys();
}

}  // namespace

TrainConfig apply_config_json(TrainConfig base, std::string_view json_text, std::string_view source) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw ConfigError(std::string(source) + ": not valid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    throw ConfigError(std::string(source) + ": unreadable JSON: " + e.what());
  }
  Reader top(doc, source, "");
  if (const json* p = top.find("preset")) {
    if (!p->is_string()) fail(source, "preset", "expected a string, got " + p->dump());
    base = preset_config(p->get<std::string>());
  }
  if (const json* m = top.find("model")) read_model(*m, source, base.model);
  if (const json* l = top.find("loss")) read_loss(*l, source, base.loss);
  if (const json* o = top.find("optim")) read_optim(*o, source, base.optim);
  if (const json* b = top.find("batch")) read_batch(*b, source, base.batch);
  if (const json* d = top.find("data")) read_data(*d, source, base.data);
  if (const json* r = top.find("run")) read_run(*r, source, base.run);
  top.check_no_unknown_keys();
  validate_config(base);
  return base;
}

void validate_config(const TrainConfig& c) {
  auto bad = [](const std::string& key, const std::string& what) { throw ConfigError("config '" + key + "': " + what); };
  if (c.model.embed_dim < 1) bad("model.embed_dim", "must be >= 1");
  if (c.model.convs.empty()) bad("model.convs", "needs at least one conv layer");
  for (size_t i = 0; i < c.model.convs.size(); ++i) {
    const auto& l = c.model.convs[i];
    if (l.channels < 1 || l.kernel < 1 || l.dilation < 1)
      bad("model.convs[" + std::to_string(i) + "]", "channels, kernel and dilation must be >= 1");
    if (static_cast<int64_t>(l.dilation) * (l.kernel - 1) > kMaxConvReach)
      bad("model.convs[" + std::to_string(i) + "]", "dilation * (kernel - 1) = " +
                                                     std::to_string(static_cast<int64_t>(l.dilation) * (l.kernel - 1)) +
                                                     " exceeds the limit " + std::to_string(kMaxConvReach));
  }
  if (!(c.model.dropout >= 0.0 && c.model.dropout < 1.0)) bad("model.dropout", "must be in [0, 1)");
  for (size_t i = 0; i < c.loss.class_weights.size(); ++i) {
    const double w = c.loss.class_weights[i];
    if (!(w >= 0.0) || !std::isfinite(w))
      bad("loss.class_weights[" + std::to_string(i) + "]", "class weights must be finite and >= 0, got " + std::to_string(w));
  }
  if (!(c.loss.label_smoothing >= 0.0 && c.loss.label_smoothing <= 1.0)) bad("loss.label_smoothing", "must be in [0, 1]");
  if (!(c.optim.lr > 0.0)) bad("optim.lr", "must be > 0");
  if (c.batch.batch_sequences < 0 || c.batch.batch_rows < 0) bad("batch", "sizes must be >= 0");
  if ((c.batch.batch_sequences > 0) == (c.batch.batch_rows > 0))
    bad("batch", "set exactly one of 'sequences' (sequences per batch) and 'rows' (row budget per batch)");
  if (c.batch.accumulation < 1) bad("batch.accumulation", "must be >= 1");
  if (c.batch.buckets < 1) bad("batch.buckets", "must be >= 1");
  if (c.run.epochs < 0) bad("run.epochs", "must be >= 0");
  if (c.data.no_label.empty()) bad("data.no_label", "must not be empty");
  if (c.data.max_length < 0) bad("data.max_length", "must be >= 0 (0 = no limit)");
}

std::string config_to_json(const TrainConfig& c) {
  json convs = json::array();
  for (const auto& l : c.model.convs)
    convs.push_back({{"channels", l.channels}, {"kernel", l.kernel}, {"dilation", l.dilation}, {"padding", "same"}});
  json doc = {
      {"preset", c.preset},
      {"model", {{"embed_dim", c.model.embed_dim}, {"convs", convs}, {"dropout", c.model.dropout}}},
      {"loss",
       {{"reduction", to_string(c.loss.reduction)},
        {"label_smoothing", c.loss.label_smoothing},
        {"class_weights", c.loss.class_weights}}},
      {"optim",
       {{"lr", c.optim.lr},
        {"beta1", c.optim.beta1},
        {"beta2", c.optim.beta2},
        {"eps", c.optim.eps},
        {"weight_decay", c.optim.weight_decay},
        {"decay_embedding", c.optim.decay_embedding},
        {"decay_bias", c.optim.decay_bias},
        {"clip_norm", c.optim.clip_norm},
        {"schedule", to_string(c.optim.schedule)},
        {"warmup_steps", c.optim.warmup_steps},
        {"min_lr_ratio", c.optim.min_lr_ratio}}},
      {"batch",
       {{"layout", to_string(c.batch.layout)},
        {"sequences", c.batch.batch_sequences},
        {"rows", c.batch.batch_rows},
        {"buckets", c.batch.buckets},
        {"accumulation", c.batch.accumulation}}},
      {"data",
       {{"format", to_string(c.data.format)},
        {"train", c.data.train_path},
        {"valid", c.data.valid_path},
        {"test", c.data.test_path},
        {"labels", c.data.labels},
        {"no_label", c.data.no_label},
        {"min_token_freq", c.data.min_token_freq},
        {"max_length", c.data.max_length},
        {"too_long", to_string(c.data.too_long)}}},
      {"run",
       {{"epochs", c.run.epochs},
        {"seed", c.run.seed},
        {"threads", c.run.threads},
        {"device", to_string(c.run.device)},
        {"log_every", c.run.log_every_steps},
        {"checkpoint_every", c.run.checkpoint_every_steps},
        {"early_stopping_patience", c.run.early_stopping_patience},
        {"nonfinite", to_string(c.run.nonfinite)},
        {"out_dir", c.run.out_dir}}}};
  // A path given on the command line need not be UTF-8: replace what JSON
  // cannot hold rather than fail a checkpoint write over a file name.
  return doc.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace seqcnn
