// GPU back end of the kernel benchmark: the cuda:: ops timed with CUDA
// events, the L2 cache flushed before every timed call, and the vendor
// library (cuDNN for conv, cuBLAS for dense) on the same shape beside them.
#include "runners.hpp"

#if defined(SEQCNN_HAVE_CUDA)

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "bench_data.hpp"
#include "cuda/adamw.hpp"
#include "cuda/check.hpp"
#include "cuda/conv1d.hpp"
#include "cuda/cudnn_conv1d.hpp"
#include "cuda/dense.hpp"
#include "cuda/device_buffer.hpp"
#include "cuda/embedding.hpp"
#include "cuda/handles.hpp"
#include "cuda/softmax_xent.hpp"

namespace seqcnn::bench {
namespace {

using Clock = std::chrono::steady_clock;

// An event pair with timing enabled (cuda::Event disables timing).
class TimingEvents {
 public:
  TimingEvents() {
    CUDA_CHECK(cudaEventCreate(&start_));
    CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~TimingEvents() {
    (void)cudaEventDestroy(start_);
    (void)cudaEventDestroy(stop_);
  }
  TimingEvents(const TimingEvents&) = delete;
  TimingEvents& operator=(const TimingEvents&) = delete;
  void start(cudaStream_t s) { CUDA_CHECK(cudaEventRecord(start_, s)); }
  void stop(cudaStream_t s) { CUDA_CHECK(cudaEventRecord(stop_, s)); }
  double elapsed_ms() {
    CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms;
  }

 private:
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

// Everything a case needs that lives for the whole run.
struct GpuContext {
  cuda::Stream stream;
  cuda::CublasHandle cublas;
  cuda::CudnnHandle cudnn;
  cuda::DeviceBuffer<char> cublas_workspace{std::size_t{32} << 20, "cuBLAS workspace"};
  cuda::DeviceBuffer<char> flush;  // written before each timed call: evicts the L2
  TimingEvents events;

  GpuContext() {
    int device = 0, l2_bytes = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
    flush.reset(std::max<std::size_t>(std::size_t{2} * static_cast<std::size_t>(l2_bytes), std::size_t{64} << 20),
                "L2 flush buffer");
    cublas.bind(stream.get(), cublas_workspace.data(), cublas_workspace.bytes());
  }
  cudaStream_t s() const { return stream.get(); }
};

Timing time_gpu(GpuContext& g, const RepPolicy& policy, const std::function<void()>& run) {
  for (int i = 0; i < policy.warmup; ++i) run();
  g.stream.synchronize();
  std::vector<double> samples;
  const auto begin = Clock::now();
  auto elapsed_s = [&] { return std::chrono::duration<double>(Clock::now() - begin).count(); };
  while (static_cast<int>(samples.size()) < policy.min_reps ||
         (static_cast<int>(samples.size()) < policy.max_reps && elapsed_s() < policy.budget_seconds)) {
    g.flush.zero_async(g.s());
    g.events.start(g.s());
    run();
    g.events.stop(g.s());
    samples.push_back(g.events.elapsed_ms());
  }
  return summarize(std::move(samples));
}

// Fills a device buffer with seeded values in [-scale, scale): a host block
// of up to 4M values, then doubling device-to-device copies of it.
void fill(cuda::DeviceBuffer<float>& buffer, float scale, uint64_t seed) {
  const auto n = static_cast<int64_t>(buffer.size());
  if (n == 0) return;
  const int64_t first = std::min<int64_t>(n, int64_t{1} << 22);
  const std::vector<float> block = random_values(first, scale, seed);
  CUDA_CHECK(cudaMemcpy(buffer.data(), block.data(), sizeof(float) * static_cast<size_t>(first),
                        cudaMemcpyHostToDevice));
  for (int64_t done = first; done < n; done *= 2) {
    const int64_t count = std::min(done, n - done);
    CUDA_CHECK(cudaMemcpy(buffer.data() + done, buffer.data(), sizeof(float) * static_cast<size_t>(count),
                          cudaMemcpyDeviceToDevice));
  }
}

cuda::DeviceBuffer<float> filled(int64_t n, float scale, uint64_t seed, const char* what) {
  cuda::DeviceBuffer<float> b(static_cast<std::size_t>(n), what);
  fill(b, scale, seed);
  return b;
}

cuda::DeviceBuffer<float> zeros(int64_t n, const char* what) {
  cuda::DeviceBuffer<float> b(static_cast<std::size_t>(n), what);
  if (n > 0) CUDA_CHECK(cudaMemset(b.data(), 0, b.bytes()));
  return b;
}

cuda::Workspace view(cuda::DeviceBuffer<char>& b) { return cuda::Workspace{b.data(), b.bytes()}; }

Conv1dShape conv_shape(const KernelCase& c) {
  Conv1dShape s;
  s.rows = c.rows;
  s.halo = c.halo();
  s.in_channels = c.channels_in;
  s.out_channels = c.channels_out;
  s.kernel = c.kernel;
  s.dilation = c.dilation;
  return s;
}

// The cuDNN side of a conv case; a shape cuDNN refuses is reported in the
// row, not as a failure of our kernel.
void run_cudnn_conv(GpuContext& g, const KernelCase& c, const RepPolicy& policy, const Conv1dShape& s,
                    cuda::DeviceBuffer<float>& x, cuda::DeviceBuffer<float>& w, cuda::DeviceBuffer<float>& y,
                    ResultRow& r) {
  const cudaStream_t st = g.s();
  try {
    const cuda::CudnnConv1d cudnn(g.cudnn.get(), s);
    cuda::DeviceBuffer<char> ws(std::max<std::size_t>(1, cudnn.workspace_bytes()), "cuDNN workspace");
    if (c.op == Op::ConvForward) {
      auto pre = zeros(c.rows * c.channels_out, "cuDNN output");
      r.baseline = time_gpu(g, policy, [&] { cudnn.forward(x.data(), w.data(), pre.data(), view(ws), st); });
      r.baseline_name = std::string("cuDNN ") + cudnn.forward_algorithm();
      r.note = "cuDNN: weight transpose + conv, no bias/ReLU/gap zeroing";
    } else if (c.op == Op::ConvBackwardData) {
      r.baseline = time_gpu(g, policy, [&] { cudnn.backward_data(w.data(), y.data(), x.data(), view(ws), st); });
      r.baseline_name = std::string("cuDNN ") + cudnn.backward_data_algorithm();
      r.note = "cuDNN: weight transpose + conv";
    } else {
      auto dw = zeros(int64_t{c.kernel} * c.channels_in * c.channels_out, "cuDNN dW");
      r.baseline = time_gpu(g, policy, [&] { cudnn.backward_weight(x.data(), y.data(), dw.data(), view(ws), st); });
      r.baseline_name = std::string("cuDNN ") + cudnn.backward_weight_algorithm();
      r.note = "cuDNN: conv + weight transpose, no bias gradient";
    }
  } catch (const std::exception& e) {
    r.baseline = Timing{};
    r.note = std::string("cuDNN baseline failed: ") + e.what();
  }
}

void run_conv(GpuContext& g, const KernelCase& c, const RepPolicy& policy, ResultRow& r) {
  const Conv1dShape s = conv_shape(c);
  const RowPattern p = make_row_pattern(c.rows, s.halo, 25, 0, 3);
  auto real = cuda::to_device(p.row_is_real, "row_is_real");
  const float bound = 1.0f / std::sqrt(static_cast<float>(c.kernel * c.channels_in));
  auto w = filled(int64_t{c.kernel} * c.channels_in * c.channels_out, bound, 4, "conv weight");
  auto b = filled(c.channels_out, bound, 5, "conv bias");
  auto x = filled(c.rows * c.channels_in, 1.0f, 6, "conv input");
  auto y = filled(c.rows * c.channels_out, 1.0f, 7, "conv output");
  const cudaStream_t st = g.s();
  if (c.op == Op::ConvForward) {
    DropoutSpec dropout;
    dropout.drop_probability = c.dropout;
    dropout.seed = 11;
    r.ours = time_gpu(g, policy, [&] {
      cuda::conv1d_forward(s, x.data(), w.data(), b.data(), real.data(), dropout, y.data(), st);
    });
  } else if (c.op == Op::ConvBackwardData) {
    r.ours = time_gpu(g, policy, [&] { cuda::conv1d_backward_data(s, w.data(), y.data(), x.data(), st); });
  } else {
    auto dw = zeros(int64_t{c.kernel} * c.channels_in * c.channels_out, "dW");
    auto db = zeros(c.channels_out, "db");
    cuda::DeviceBuffer<char> ws(std::max<std::size_t>(1, cuda::conv1d_backward_weight_workspace_bytes(s)),
                                "conv backward weight workspace");
    r.ours = time_gpu(g, policy, [&] {
      cuda::conv1d_backward_weight(s, x.data(), y.data(), dw.data(), db.data(), view(ws), st);
    });
  }
  run_cudnn_conv(g, c, policy, s, x, w, y, r);
}

void run_dense(GpuContext& g, const KernelCase& c, const RepPolicy& policy, ResultRow& r) {
  const int features = c.channels_in, classes = c.classes;
  const int rows = static_cast<int>(c.rows);
  const float bound = 1.0f / std::sqrt(static_cast<float>(features));
  auto h = filled(c.rows * features, 1.0f, 15, "dense input");
  auto w = filled(int64_t{classes} * features, bound, 16, "dense weight");
  auto b = filled(classes, bound, 17, "dense bias");
  auto logits = filled(c.rows * classes, 1e-3f, 18, "logits");
  const cudaStream_t st = g.s();
  cublasHandle_t handle = g.cublas.get();
  const float one = 1.0f, zero = 0.0f;
  r.baseline_name = "cuBLAS SGEMM";
  if (c.op == Op::DenseForward) {
    r.ours = time_gpu(g, policy, [&] {
      cuda::dense_forward(handle, c.rows, features, classes, h.data(), w.data(), b.data(), logits.data(), st);
    });
    // The same product, without the bias.
    r.baseline = time_gpu(g, policy, [&] {
      CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, classes, rows, features, &one, w.data(), features,
                               h.data(), features, &zero, logits.data(), classes));
    });
    r.note = "cuBLAS: GEMM only (ours adds the bias)";
    return;
  }
  auto dh = zeros(c.rows * features, "dh");
  auto dw = zeros(int64_t{classes} * features, "dW");
  auto db = zeros(classes, "db");
  cuda::DeviceBuffer<char> ws(std::max<std::size_t>(1, cuda::dense_backward_workspace_bytes(c.rows, classes)),
                              "dense backward workspace");
  r.ours = time_gpu(g, policy, [&] {
    cuda::dense_backward(handle, c.rows, features, classes, h.data(), w.data(), logits.data(), dh.data(), dw.data(),
                         db.data(), view(ws), st);
  });
  r.baseline = time_gpu(g, policy, [&] {
    CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, features, rows, classes, &one, w.data(), features,
                             logits.data(), classes, &zero, dh.data(), features));
    CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, features, classes, rows, &one, h.data(), features,
                             logits.data(), classes, &one, dw.data(), features));
  });
  r.note = "cuBLAS: the two GEMMs only (ours adds the bias gradient)";
}

void run_case(GpuContext& g, const KernelCase& c, const RepPolicy& policy, ResultRow& r) {
  const cudaStream_t st = g.s();
  switch (c.op) {
    case Op::EmbeddingForward:
    case Op::EmbeddingBackward: {
      const int dim = c.channels_out;
      const RowPattern p = make_row_pattern(c.rows, 0, c.vocab, 0, 1);
      auto tokens = cuda::to_device(p.tokens, "tokens");
      auto real = cuda::to_device(p.row_is_real, "row_is_real");
      auto table = filled(int64_t{c.vocab} * dim, 1.0f, 2, "embedding table");
      auto act = filled(c.rows * dim, 1.0f, 3, "embedding output");
      if (c.op == Op::EmbeddingForward) {
        r.ours = time_gpu(g, policy, [&] {
          cuda::embedding_forward(tokens.data(), real.data(), c.rows, table.data(), dim, 0, act.data(), st);
        });
        return;
      }
      cuda::DeviceBuffer<char> ws(
          std::max<std::size_t>(1, cuda::embedding_backward_workspace_bytes(c.rows, dim, c.vocab)),
          "embedding backward workspace");
      r.ours = time_gpu(g, policy, [&] {
        cuda::embedding_backward(tokens.data(), real.data(), c.rows, act.data(), dim, c.vocab, 0, table.data(),
                                 view(ws), st);
      });
      r.note = cuda::embedding_backward_uses_shared_tables(dim, c.vocab) ? "shared-memory partial tables"
                                                                         : "sorted by token";
      return;
    }
    case Op::ConvForward:
    case Op::ConvBackwardData:
    case Op::ConvBackwardWeight:
      run_conv(g, c, policy, r);
      return;
    case Op::ConvEpilogueBackward: {
      const RowPattern p = make_row_pattern(c.rows, 1, 25, 0, 3);
      auto real = cuda::to_device(p.row_is_real, "row_is_real");
      auto y = filled(c.rows * c.channels_out, 1.0f, 7, "y");
      auto dy = filled(c.rows * c.channels_out, 1.0f, 8, "dy");
      auto dpre = zeros(c.rows * c.channels_out, "dpre");
      r.ours = time_gpu(g, policy, [&] {
        cuda::conv1d_epilogue_backward(c.rows, c.channels_out, y.data(), dy.data(), real.data(), 1.0f, dpre.data(),
                                       st);
      });
      return;
    }
    case Op::SoftmaxXent: {
      const RowPattern p = make_row_pattern(c.rows, 0, 25, c.classes, 9);
      auto labels = cuda::to_device(p.labels, "labels");
      auto scale = cuda::to_device(p.row_scale, "row_scale");
      auto logits = filled(c.rows * c.classes, 4.0f, 10, "logits");
      auto dlogits = zeros(c.rows * c.classes, "dlogits");
      cuda::DeviceBuffer<cuda::DeviceXentTotals> totals(1, "loss totals");
      totals.zero_async(st);
      cuda::DeviceBuffer<char> ws(std::max<std::size_t>(1, cuda::softmax_xent_workspace_bytes(c.rows)),
                                  "softmax workspace");
      r.ours = time_gpu(g, policy, [&] {
        cuda::softmax_xent(c.rows, c.classes, logits.data(), labels.data(), scale.data(), nullptr, 0.0f,
                           dlogits.data(), totals.data(), view(ws), st);
      });
      return;
    }
    case Op::AdamW: {
      auto params = filled(c.params, 0.1f, 12, "params");
      auto grads = filled(c.params, 0.01f, 13, "grads");
      auto m = zeros(c.params, "m");
      auto v = zeros(c.params, "v");
      cuda::AdamWConstants constants;
      constants.weights_end = c.params * 9 / 10;
      constants.embedding_end = c.params * 19 / 20;
      constants.decay_weights = 0.05f;
      const std::vector<cuda::AdamWStepInputs> inputs{cuda::adamw_step_inputs(1e-3, 0.9, 0.999, 1, 1.0)};
      auto device_inputs = cuda::to_device(inputs, "AdamW step inputs");
      r.ours = time_gpu(g, policy, [&] {
        cuda::adamw_update(c.params, params.data(), grads.data(), m.data(), v.data(), constants,
                           device_inputs.data(), st);
      });
      return;
    }
    case Op::DenseForward:
    case Op::DenseBackward:
      run_dense(g, c, policy, r);
      return;
  }
}

// Created on first use and never destroyed: handles released after the CUDA
// runtime has shut down at exit would fail.
GpuContext& context() {
  static GpuContext* g = new GpuContext;
  return *g;
}

}  // namespace

bool cuda_benchmarks_built() { return true; }

std::string cuda_device_name() {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return std::string(prop.name) + ", " + std::to_string(prop.totalGlobalMem >> 30) + " GiB, sm_" +
         std::to_string(prop.major) + std::to_string(prop.minor);
}

References measure_cuda_references(const RepPolicy& policy) {
  GpuContext& g = context();
  References refs;
  {
    const int64_t n = int64_t{256} << 20;  // 1 GiB of floats each way
    cuda::DeviceBuffer<float> src(static_cast<std::size_t>(n), "copy source"), dst(static_cast<std::size_t>(n), "copy destination");
    src.zero_async(g.s());
    const Timing t = time_gpu(g, policy, [&] {
      CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), dst.bytes(), cudaMemcpyDeviceToDevice, g.s()));
    });
    refs.copy_gb_per_s = 2.0 * static_cast<double>(dst.bytes()) / (t.median_ms * 1e-3) * 1e-9;
    refs.copy_what = "cudaMemcpyAsync device to device, 1 GiB, read + write bytes";
  }
  {
    const int n = 8192;
    auto a = filled(int64_t{n} * n, 1.0f, 21, "GEMM A");
    auto b = filled(int64_t{n} * n, 1.0f, 22, "GEMM B");
    auto c = zeros(int64_t{n} * n, "GEMM C");
    const float one = 1.0f, zero = 0.0f;
    RepPolicy few = policy;
    few.max_reps = std::min(few.max_reps, 10);
    const Timing t = time_gpu(g, few, [&] {
      CUBLAS_CHECK(cublasSgemm(g.cublas.get(), CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a.data(), n, b.data(), n,
                               &zero, c.data(), n));
    });
    refs.gemm_gflop_per_s = 2.0 * std::pow(static_cast<double>(n), 3.0) / (t.median_ms * 1e-3) * 1e-9;
    refs.gemm_what = "cuBLAS SGEMM 8192^3, FP32 FMA math (no TF32)";
  }
  return refs;
}

std::vector<ResultRow> run_cuda_cases(const std::vector<KernelCase>& cases, const RepPolicy& policy,
                                      std::ostream& log) {
  GpuContext& g = context();
  std::vector<ResultRow> rows;
  for (const KernelCase& c : cases) {
    ResultRow r;
    r.c = c;
    r.work = compulsory_work(c);
    try {
      run_case(g, c, policy, r);
    } catch (const std::exception& e) {
      r.error = e.what();
      log << "  " << op_name(c.op) << " [" << c.shape() << "] FAILED: " << r.error << std::endl;
      rows.push_back(std::move(r));
      continue;
    }
    log << "  " << op_name(c.op) << " [" << c.shape() << "] rows " << c.rows << ": " << r.ours.median_ms << " ms";
    if (r.baseline.reps > 0) log << ", " << r.baseline_name << " " << r.baseline.median_ms << " ms";
    log << std::endl;
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace seqcnn::bench

#else  // no CUDA backend in this build

#include "seqcnn/errors.hpp"

namespace seqcnn::bench {

bool cuda_benchmarks_built() { return false; }
std::string cuda_device_name() { return "none"; }
References measure_cuda_references(const RepPolicy&) {
  throw Error("this build has no CUDA backend (configure with -DSEQCNN_CUDA=ON)");
}
std::vector<ResultRow> run_cuda_cases(const std::vector<KernelCase>&, const RepPolicy&, std::ostream&) {
  throw Error("this build has no CUDA backend (configure with -DSEQCNN_CUDA=ON)");
}

}  // namespace seqcnn::bench

#endif
