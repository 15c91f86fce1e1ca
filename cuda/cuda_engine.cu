// The CUDA backend of the Engine interface. Parameters, gradients and both
// Adam moments are each one flat device buffer; a step is queued on one
// stream with no host synchronisation (the update decision, learning rate,
// bias corrections and clip scale are computed on the device), and, while
// the step's shape repeats, replayed from a captured CUDA graph.
#include "cuda_engine.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "adamw.hpp"
#include "check.hpp"
#include "device_buffer.hpp"
#include "engine_state.hpp"
#include "handles.hpp"
#include "model_pass.hpp"
#include "seqcnn/errors.hpp"
#include "step_staging.hpp"
#include "train/batch_check.hpp"

namespace seqcnn {
namespace cuda {
namespace {

constexpr std::size_t kCublasWorkspaceBytes = std::size_t{32} << 20;  // cuBLAS's advice for Hopper
constexpr std::size_t kHeaderBytes = 256;  // StepHeader, padded so regions stay aligned

// The shape of a step: what a captured graph depends on.
struct StepSignature {
  std::vector<std::pair<int64_t, int>> micro;  // (rows, halo) per micro-batch
  bool operator==(const StepSignature&) const = default;
};

// One of two pinned staging buffers: the host fills one while the GPU may
// still be copying from the other.
struct StagingSlot {
  PinnedBuffer<char> bytes;
  Event copied;  // recorded after the last work that reads this slot
  bool in_use = false;
  GraphExec graph;
  StepSignature graph_signature;
};

void require_usable_device() {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  if (prop.major < 9)
    throw DeviceError(std::string("cuda engine: device ") + prop.name + " has compute capability " +
                      std::to_string(prop.major) + "." + std::to_string(prop.minor) +
                      "; this build carries code for 9.0 and newer");
}

template <class T>
T* member(DeviceEngineState* state, std::size_t offset) {
  return reinterpret_cast<T*>(reinterpret_cast<char*>(state) + offset);
}

class CudaEngine final : public Engine {
 public:
  CudaEngine(const Model& model, const EngineOptions& options, const CudaEngineOptions& cuda_options)
      : shape_((require_usable_device(), model_shape(model))), options_(options), cuda_options_(cuda_options) {
    const auto n = static_cast<std::size_t>(shape_.parameter_count);
    params_.reset(n, "parameters");
    grads_.reset(n, "gradients");
    m_.reset(n, "Adam first moments");
    v_.reset(n, "Adam second moments");
    state_.reset(1, "engine state");
    header_.reset(1, "step header");
    cublas_workspace_.reset(kCublasWorkspaceBytes, "cuBLAS workspace");
    squares_workspace_.reset(sum_of_squares_workspace_bytes(shape_.parameter_count), "gradient norm partials");
    cublas_.bind(stream_.get(), cublas_workspace_.data(), cublas_workspace_.bytes());

    upload(model.flat(), params_);
    m_.zero_async(stream_.get());
    v_.zero_async(stream_.get());
    grads_.zero_async(stream_.get());
    reset_engine_state(state_.data(), stream_.get());

    std::vector<long long> offsets, sizes;
    for (const ParamInfo& p : model.params()) {
      tensor_names_.push_back(p.name);
      offsets.push_back(p.offset);
      sizes.push_back(p.size);
    }
    tensor_offsets_ = to_device(offsets, "tensor offsets");
    tensor_sizes_ = to_device(sizes, "tensor sizes");
    nonfinite_flags_.reset(std::max<std::size_t>(offsets.size(), 1), "non-finite tensor flags");

    const std::vector<double>& weights = options.loss.class_weights;
    if (!weights.empty()) {
      if (weights.size() != static_cast<std::size_t>(shape_.classes))
        throw ConfigError("cuda engine: " + std::to_string(weights.size()) + " class weights for " +
                          std::to_string(shape_.classes) + " classes");
      std::vector<float> w(weights.begin(), weights.end());
      class_weights_.reset(w.size(), "class weights");
      upload(std::span<const float>(w), class_weights_);
    }
    loss_.class_weights = class_weights_.empty() ? nullptr : class_weights_.data();
    loss_.label_smoothing = static_cast<float>(options.loss.label_smoothing);

    const OptimConfig& o = options.optim;
    adamw_.beta1 = static_cast<float>(o.beta1);
    adamw_.beta2 = static_cast<float>(o.beta2);
    adamw_.eps = static_cast<float>(o.eps);
    adamw_.weights_end = shape_.weights_end;
    adamw_.embedding_end = shape_.embedding_end;
    adamw_.decay_weights = static_cast<float>(o.weight_decay);
    adamw_.decay_embedding = static_cast<float>(o.decay_embedding ? o.weight_decay : 0.0);
    adamw_.decay_bias = static_cast<float>(o.decay_bias ? o.weight_decay : 0.0);
    policy_.lr = o.lr;
    policy_.warmup_steps = o.warmup_steps;
    policy_.total_steps = options.total_steps;
    policy_.cosine = o.schedule == LrSchedule::Cosine;
    policy_.min_lr_ratio = o.min_lr_ratio;
    policy_.beta1 = o.beta1;
    policy_.beta2 = o.beta2;
    policy_.clip_norm = o.clip_norm;
    stream_.synchronize();
  }

  ~CudaEngine() override { (void)cudaStreamSynchronize(stream_.get()); }

  std::string name() const override { return "cuda"; }

  void set_parameters(std::span<const float> flat) override {
    check_size(flat.size(), "parameter buffer");
    upload(flat, params_);
    stream_.synchronize();
  }
  void get_parameters(std::span<float> flat) override { download(params_, flat, "destination"); }

  void get_optimizer_state(std::span<float> m, std::span<float> v, int64_t& steps_taken) override {
    download(m_, m, "destination");
    download(v_, v, "destination");
    steps_taken = read_state().steps_taken;
  }
  void set_optimizer_state(std::span<const float> m, std::span<const float> v, int64_t steps_taken) override {
    check_size(m.size(), "parameter buffer");
    check_size(v.size(), "parameter buffer");
    upload(m, m_);
    upload(v, v_);
    set_steps_taken(state_.data(), steps_taken, stream_.get());
    stream_.synchronize();
  }

  void train_step(const StepRequest& request) override {
    check_step_request("cuda engine", shape_, request);
    const int64_t call = calls_++;
    if (request.counted_weight <= 0.0) {  // all-masked: nothing is queued, nothing moves
      ++steps_skipped_;
      return;
    }
    StagingSlot& slot = stage(request, call, true);
    const StepSignature signature = signature_of(request);
    const bool repeat = signature == last_signature_;
    last_signature_ = signature;
    if (cuda_options_.use_graphs && stats_.capture_error.empty() && repeat) {
      if (!slot.graph.valid() || !(slot.graph_signature == signature)) capture(slot, request, signature);
      if (slot.graph.valid()) {
        slot.graph.launch(stream_.get());
        ++stats_.replays;
        finish_using(slot);
        return;
      }
    }
    enqueue_step(slot, request, true);
    ++stats_.eager_steps;
    finish_using(slot);
  }

  StepMetrics drain_metrics() override {
    const DeviceEngineState s = read_state();
    StepMetrics out;
    out.loss_sum = s.loss_sum;
    out.counted = s.counted;
    out.correct = s.correct;
    out.steps_taken = s.steps_applied;
    out.steps_skipped = steps_skipped_;
    out.nonfinite_steps = s.nonfinite_steps;
    out.first_nonfinite_step = s.first_nonfinite_step;
    out.last_grad_norm = s.last_grad_norm;
    if (s.first_nonfinite_step >= 0) {
      out.first_nonfinite_loss = s.first_nonfinite_loss;
      out.first_nonfinite_grad_norm = s.first_nonfinite_grad_norm;
      stream_.synchronize();
      const std::vector<int> flags = to_host(nonfinite_flags_);
      for (std::size_t t = 0; t < tensor_names_.size(); ++t)
        if (flags[t] != 0) out.first_nonfinite_tensors.push_back(tensor_names_[t]);
    }
    reset_engine_metrics(state_.data(), stream_.get());
    steps_skipped_ = 0;
    return out;
  }

  void forward_logits(const Batch& batch, std::vector<float>& logits) override {
    StepRequest request;
    request.micro.push_back(MicroBatch{&batch, {}, 0});
    StagingSlot& slot = stage(request, -1, false);
    CUDA_CHECK(cudaMemcpyAsync(inputs_.data(), slot.bytes.data() + kHeaderBytes, micro_batch_layout(batch.rows).bytes,
                               cudaMemcpyHostToDevice, stream_.get()));
    model_forward(cublas_.get(), shape_, params_.data(), device_batch_view(batch, inputs_.data()), acts_, stream_.get());
    const auto count = static_cast<std::size_t>(batch.rows) * static_cast<std::size_t>(shape_.classes);
    host_floats_.ensure(count, "logits download");
    if (count > 0)
      CUDA_CHECK(cudaMemcpyAsync(host_floats_.data(), acts_.logits.data(), count * sizeof(float),
                                 cudaMemcpyDeviceToHost, stream_.get()));
    finish_using(slot);
    stream_.synchronize();
    logits.assign(host_floats_.data(), host_floats_.data() + count);
  }

  double loss_and_gradients(const StepRequest& request, std::span<float> grads) override {
    check_size(grads.size(), "destination");
    check_step_request("cuda engine", shape_, request);
    StagingSlot& slot = stage(request, -1, true);
    enqueue_step(slot, request, false);
    finish_using(slot);
    download(grads_, grads, "destination");
    return read_state().step.loss;
  }

  const CudaGraphStats& stats() const { return stats_; }

 private:
  // Checks and packs the request into the next staging slot, after the GPU
  // is done with that slot's previous contents; grows device buffers.
  StagingSlot& stage(const StepRequest& request, int64_t call, bool for_training) {
    // Training requests were checked by the caller, before any state moved.
    if (!for_training)
      for (const MicroBatch& mb : request.micro) check_micro_batch("cuda engine", shape_, *mb.batch, {}, false);
    StagingSlot& slot = slots_[next_slot_];
    next_slot_ ^= 1;
    if (slot.in_use) slot.copied.synchronize();
    slot.in_use = false;

    std::size_t total = kHeaderBytes, largest = 0;
    bool grows = false;
    for (const MicroBatch& mb : request.micro) {
      const std::size_t bytes = micro_batch_layout(mb.batch->rows).bytes;
      total += bytes;
      largest = std::max(largest, bytes);
      grows |= !acts_.fits(shape_, mb.batch->rows, mb.batch->halo);
    }
    grows |= inputs_.size() < std::max<std::size_t>(largest, 1);
    // Growing frees buffers that the previous step, still queued, may use:
    // let it finish first (rare: only when a batch is the largest so far).
    if (grows) stream_.synchronize();
    bool moved = false;
    for (const MicroBatch& mb : request.micro) moved |= acts_.ensure(shape_, mb.batch->rows, mb.batch->halo);
    moved |= inputs_.ensure(std::max<std::size_t>(largest, 1), "micro-batch inputs");
    moved |= slot.bytes.ensure(total, "step staging");
    if (moved) drop_graphs();

    StepHeader header{};
    header.call_index = call;
    std::memcpy(slot.bytes.data(), &header, sizeof header);
    std::size_t offset = kHeaderBytes;
    for (const MicroBatch& mb : request.micro) {
      stage_micro_batch(*mb.batch, mb.row_scale, mb.dropout_step, slot.bytes.data() + offset);
      offset += micro_batch_layout(mb.batch->rows).bytes;
    }
    return slot;
  }

  // The step's device work, identical for eager runs and graph capture.
  void enqueue_step(StagingSlot& slot, const StepRequest& request, bool update) {
    cudaStream_t stream = stream_.get();
    CUDA_CHECK(cudaMemcpyAsync(header_.data(), slot.bytes.data(), sizeof(StepHeader), cudaMemcpyHostToDevice, stream));
    begin_step(state_.data(), stream);
    grads_.zero_async(stream);
    DeviceXentTotals* totals = member<DeviceXentTotals>(state_.data(), offsetof(DeviceEngineState, step));
    std::size_t offset = kHeaderBytes;
    for (const MicroBatch& mb : request.micro) {
      const std::size_t bytes = micro_batch_layout(mb.batch->rows).bytes;
      CUDA_CHECK(cudaMemcpyAsync(inputs_.data(), slot.bytes.data() + offset, bytes, cudaMemcpyHostToDevice, stream));
      offset += bytes;
      model_forward_backward(cublas_.get(), shape_, params_.data(), device_batch_view(*mb.batch, inputs_.data()), loss_,
                             options_.seed, acts_, grads_.data(), totals, stream);
    }
    if (!update) return;
    double* squares = member<double>(state_.data(), offsetof(DeviceEngineState, grad_sum_squares));
    sum_of_squares(shape_.parameter_count, grads_.data(), squares,
                   Workspace{squares_workspace_.data(), squares_workspace_.bytes()}, stream);
    finish_step(state_.data(), header_.data(), policy_, stream);
    record_nonfinite_tensors(state_.data(), grads_.data(), tensor_offsets_.data(), tensor_sizes_.data(),
                             static_cast<int>(tensor_names_.size()), nonfinite_flags_.data(), stream);
    const AdamWStepInputs* inputs = member<AdamWStepInputs>(state_.data(), offsetof(DeviceEngineState, adamw));
    adamw_update(shape_.parameter_count, params_.data(), grads_.data(), m_.data(), v_.data(), adamw_, inputs, stream);
  }

  // Captures the step into slot.graph; on any failure graphs are given up
  // for this engine (the reason kept in the stats) and steps run eagerly.
  void capture(StagingSlot& slot, const StepRequest& request, const StepSignature& signature) {
    slot.graph.reset();
    cudaStream_t stream = stream_.get();
    cudaGraph_t graph = nullptr;
    try {
      CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
      try {
        enqueue_step(slot, request, true);
      } catch (...) {
        (void)cudaStreamEndCapture(stream, &graph);
        if (graph != nullptr) (void)cudaGraphDestroy(graph);
        throw;
      }
      CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
      cudaGraphExec_t exec = nullptr;
      const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
      (void)cudaGraphDestroy(graph);
      CUDA_CHECK(status);
      slot.graph = GraphExec(exec);
      slot.graph_signature = signature;
      ++stats_.captures;
    } catch (const Error& e) {
      (void)cudaGetLastError();
      stats_.capture_error = e.what();
      // An in-flight graph is freed when it completes (cudaGraphExecDestroy).
      for (StagingSlot& s : slots_) s.graph.reset();
    }
  }

  void finish_using(StagingSlot& slot) {
    slot.copied.record(stream_.get());
    slot.in_use = true;
  }

  // A graph still running is freed when it completes (cudaGraphExecDestroy).
  void drop_graphs() {
    for (StagingSlot& s : slots_) s.graph.reset();
  }

  static StepSignature signature_of(const StepRequest& request) {
    StepSignature s;
    for (const MicroBatch& mb : request.micro) s.micro.emplace_back(mb.batch->rows, mb.batch->halo);
    return s;
  }

  DeviceEngineState read_state() {
    CUDA_CHECK(cudaMemcpyAsync(host_state_.data(), state_.data(), sizeof(DeviceEngineState), cudaMemcpyDeviceToHost,
                               stream_.get()));
    stream_.synchronize();
    return host_state_[0];
  }

  void check_size(std::size_t size, const char* what) const {
    if (size != static_cast<std::size_t>(shape_.parameter_count))
      throw Error(std::string(what) + " holds " + std::to_string(size) + " floats, the model has " +
                  std::to_string(shape_.parameter_count));
  }

  void upload(std::span<const float> from, DeviceBuffer<float>& to) {
    if (from.empty()) return;
    CUDA_CHECK(cudaMemcpyAsync(to.data(), from.data(), from.size_bytes(), cudaMemcpyHostToDevice, stream_.get()));
    stream_.synchronize();  // `from` may be pageable and short-lived
  }

  void download(const DeviceBuffer<float>& from, std::span<float> to, const char* what) {
    check_size(to.size(), what);
    if (to.empty()) return;
    CUDA_CHECK(cudaMemcpyAsync(to.data(), from.data(), to.size_bytes(), cudaMemcpyDeviceToHost, stream_.get()));
    stream_.synchronize();
  }

  ModelShape shape_;
  EngineOptions options_;
  CudaEngineOptions cuda_options_;
  Stream stream_;
  CublasHandle cublas_;
  DeviceBuffer<char> cublas_workspace_;
  DeviceBuffer<float> params_, grads_, m_, v_, class_weights_;
  DeviceBuffer<DeviceEngineState> state_;
  DeviceBuffer<StepHeader> header_;
  DeviceBuffer<char> squares_workspace_;
  DeviceBuffer<char> inputs_;
  std::vector<std::string> tensor_names_;  // state_dict names, for naming a non-finite gradient
  DeviceBuffer<long long> tensor_offsets_, tensor_sizes_;
  DeviceBuffer<int> nonfinite_flags_;
  DeviceActivations acts_;
  DeviceLoss loss_;
  AdamWConstants adamw_;
  StepPolicy policy_;
  StagingSlot slots_[2];
  int next_slot_ = 0;
  StepSignature last_signature_;
  PinnedBuffer<DeviceEngineState> host_state_{1, "engine state download"};
  PinnedBuffer<float> host_floats_;
  int64_t calls_ = 0;
  int64_t steps_skipped_ = 0;
  CudaGraphStats stats_;
};

}  // namespace

std::unique_ptr<Engine> make_cuda_engine(const Model& model, const EngineOptions& options,
                                         const CudaEngineOptions& cuda_options) {
  return std::make_unique<CudaEngine>(model, options, cuda_options);
}

CudaGraphStats graph_stats(const Engine& engine) {
  const auto* cuda_engine = dynamic_cast<const CudaEngine*>(&engine);
  if (cuda_engine == nullptr) throw DeviceError("graph_stats: engine '" + engine.name() + "' is not the CUDA engine");
  return cuda_engine->stats();
}

}  // namespace cuda

std::unique_ptr<Engine> make_cuda_engine(const Model& model, const EngineOptions& options) {
  return cuda::make_cuda_engine(model, options, cuda::CudaEngineOptions{});
}

}  // namespace seqcnn
