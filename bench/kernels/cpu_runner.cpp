// CPU back end of the kernel benchmark: the cpu:: reference ops (OpenMP,
// OpenBLAS GEMMs when linked), timed by wall clock.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "bench_data.hpp"
#include "cpu/adamw.hpp"
#include "cpu/conv1d.hpp"
#include "cpu/dense.hpp"
#include "cpu/embedding.hpp"
#include "cpu/gemm.hpp"
#include "cpu/row_chunks.hpp"
#include "cpu/softmax_xent.hpp"
#include "runners.hpp"

namespace seqcnn::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Timing time_cpu(const RepPolicy& policy, const std::function<void()>& run) {
  for (int i = 0; i < policy.warmup; ++i) run();
  std::vector<double> samples;
  const auto begin = Clock::now();
  while (static_cast<int>(samples.size()) < policy.min_reps ||
         (static_cast<int>(samples.size()) < policy.max_reps && ms_since(begin) < 1e3 * policy.budget_seconds)) {
    const auto start = Clock::now();
    run();
    samples.push_back(ms_since(start));
  }
  return summarize(std::move(samples));
}

// Halo and gap rows of an activation hold zeros, as in a real batch.
std::vector<float> activations(int64_t rows, int channels, const RowPattern& pattern, uint64_t seed) {
  std::vector<float> x = random_values(rows * channels, 1.0f, seed);
  for (int64_t r = 0; r < rows; ++r)
    if (pattern.row_is_real[static_cast<size_t>(r)] == 0)
      std::memset(x.data() + r * channels, 0, sizeof(float) * static_cast<size_t>(channels));
  return x;
}

Timing run_case(const KernelCase& c, const RepPolicy& policy) {
  const int64_t rows = c.rows;
  switch (c.op) {
    case Op::EmbeddingForward:
    case Op::EmbeddingBackward: {
      const int dim = c.channels_out;
      const RowPattern p = make_row_pattern(rows, 0, c.vocab, 0, 1);
      std::vector<float> table = random_values(int64_t{c.vocab} * dim, 1.0f, 2);
      std::vector<float> act(static_cast<size_t>(rows * dim), 0.5f);
      if (c.op == Op::EmbeddingForward)
        return time_cpu(policy, [&] {
          cpu::embedding_forward(p.tokens.data(), p.row_is_real.data(), rows, table.data(), dim, 0, act.data());
        });
      return time_cpu(policy, [&] {
        cpu::embedding_backward(p.tokens.data(), p.row_is_real.data(), rows, act.data(), dim, c.vocab, 0,
                                table.data());
      });
    }
    case Op::ConvForward:
    case Op::ConvBackwardData:
    case Op::ConvBackwardWeight: {
      Conv1dShape s;
      s.rows = rows;
      s.halo = c.halo();
      s.in_channels = c.channels_in;
      s.out_channels = c.channels_out;
      s.kernel = c.kernel;
      s.dilation = c.dilation;
      const RowPattern p = make_row_pattern(rows, s.halo, 25, 0, 3);
      const float bound = 1.0f / std::sqrt(static_cast<float>(c.kernel * c.channels_in));
      std::vector<float> w = random_values(int64_t{c.kernel} * c.channels_in * c.channels_out, bound, 4);
      std::vector<float> b = random_values(c.channels_out, bound, 5);
      std::vector<float> x = activations(rows, c.channels_in, p, 6);
      std::vector<float> y = activations(rows, c.channels_out, p, 7);
      if (c.op == Op::ConvForward) {
        DropoutSpec dropout;
        dropout.drop_probability = c.dropout;
        dropout.seed = 11;
        return time_cpu(policy, [&] {
          cpu::conv1d_forward(s, x.data(), w.data(), b.data(), p.row_is_real.data(), dropout, y.data());
        });
      }
      if (c.op == Op::ConvBackwardData)
        return time_cpu(policy, [&] { cpu::conv1d_backward_data(s, w.data(), y.data(), x.data()); });
      std::vector<float> dw(w.size(), 0.0f), db(b.size(), 0.0f);
      return time_cpu(policy,
                      [&] { cpu::conv1d_backward_weight(s, x.data(), y.data(), dw.data(), db.data()); });
    }
    case Op::ConvEpilogueBackward: {
      const RowPattern p = make_row_pattern(rows, 1, 25, 0, 3);
      std::vector<float> y = activations(rows, c.channels_out, p, 7);
      std::vector<float> dy = random_values(rows * c.channels_out, 1.0f, 8);
      std::vector<float> dpre(dy.size());
      return time_cpu(policy, [&] {
        cpu::conv1d_epilogue_backward(rows, c.channels_out, y.data(), dy.data(), p.row_is_real.data(), 1.0f,
                                      dpre.data());
      });
    }
    case Op::SoftmaxXent: {
      const RowPattern p = make_row_pattern(rows, 0, 25, c.classes, 9);
      std::vector<float> logits = random_values(rows * c.classes, 4.0f, 10);
      std::vector<float> dlogits(logits.size());
      return time_cpu(policy, [&] {
        cpu::softmax_xent(rows, c.classes, logits.data(), p.labels.data(), p.row_scale.data(),
                          static_cast<const float*>(nullptr), 0.0f, dlogits.data());
      });
    }
    case Op::AdamW: {
      std::vector<float> params = random_values(c.params, 0.1f, 12), grads = random_values(c.params, 0.01f, 13);
      std::vector<float> m(params.size(), 0.0f), v(params.size(), 0.0f);
      cpu::AdamWHyper hyper;
      hyper.weights_end = c.params * 9 / 10;
      hyper.embedding_end = c.params * 19 / 20;
      hyper.decay_weights = 0.05;
      return time_cpu(policy, [&] {
        cpu::adamw_update(c.params, params.data(), grads.data(), m.data(), v.data(), hyper);
        ++hyper.step;
      });
    }
    case Op::DenseForward:
    case Op::DenseBackward: {
      const int features = c.channels_in, classes = c.classes;
      const RowPattern p = make_row_pattern(rows, 1, 25, 0, 14);
      std::vector<float> h = activations(rows, features, p, 15);
      const float bound = 1.0f / std::sqrt(static_cast<float>(features));
      std::vector<float> w = random_values(int64_t{classes} * features, bound, 16);
      std::vector<float> b = random_values(classes, bound, 17);
      std::vector<float> logits = random_values(rows * classes, 1e-3f, 18);
      if (c.op == Op::DenseForward)
        return time_cpu(policy, [&] {
          cpu::dense_forward(rows, features, classes, h.data(), w.data(), b.data(), logits.data());
        });
      std::vector<float> dh(h.size()), dw(w.size(), 0.0f), db(b.size(), 0.0f);
      return time_cpu(policy, [&] {
        cpu::dense_backward(rows, features, classes, h.data(), w.data(), logits.data(), dh.data(), dw.data(),
                            db.data());
      });
    }
  }
  return {};
}

}  // namespace

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown CPU";
}

References measure_cpu_references(const RepPolicy& policy) {
  References refs;
  // Copy: 256 MiB to 256 MiB in parallel 1 MiB pieces (far beyond the L2 caches).
  {
    const int64_t n = int64_t{64} << 20;
    std::vector<float> src(static_cast<size_t>(n), 1.0f), dst(static_cast<size_t>(n), 0.0f);
    const int64_t piece = int64_t{1} << 18;
    const Timing t = time_cpu(policy, [&] {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; i += piece)
        std::memcpy(dst.data() + i, src.data() + i, sizeof(float) * static_cast<size_t>(std::min(piece, n - i)));
    });
    refs.copy_gb_per_s = 2.0 * 4.0 * static_cast<double>(n) / (t.median_ms * 1e-3) * 1e-9;
    refs.copy_what = "memcpy of 256 MiB over all threads, read + write bytes";
  }
  // GEMM: the ops' own pattern, 256-row chunks of C = A (M x 256) * B (256 x 256)
  // run in parallel, each chunk one single-threaded cpu::gemm call.
  {
    const int64_t m = 32768, n = 256, k = 256;
    std::vector<float> a = random_values(m * k, 1.0f, 21), b = random_values(k * n, 1.0f, 22);
    std::vector<float> c(static_cast<size_t>(m * n));
    const int64_t chunks = cpu::chunk_count(0, m, cpu::kRowChunk);
    const Timing t = time_cpu(policy, [&] {
#pragma omp parallel for schedule(dynamic)
      for (int64_t i = 0; i < chunks; ++i) {
        const cpu::RowRange r = cpu::chunk_range(0, m, cpu::kRowChunk, i);
        cpu::gemm(cpu::Transpose::No, cpu::Transpose::No, r.size(), n, k, 1.0f, a.data() + r.begin * k, k,
                  b.data(), n, 0.0f, c.data() + r.begin * n, n);
      }
    });
    refs.gemm_gflop_per_s = 2.0 * static_cast<double>(m * n * k) / (t.median_ms * 1e-3) * 1e-9;
    refs.gemm_what = std::string("cpu::gemm (") + (cpu::gemm_uses_blas() ? "OpenBLAS" : "built-in loops") +
                     ") 32768x256x256 in 256-row chunks over all threads";
  }
  return refs;
}

std::vector<ResultRow> run_cpu_cases(const std::vector<KernelCase>& cases, const RepPolicy& policy,
                                     std::ostream& log) {
  std::vector<ResultRow> rows;
  for (const KernelCase& c : cases) {
    ResultRow r;
    r.c = c;
    r.work = compulsory_work(c);
    try {
      r.ours = run_case(c, policy);
    } catch (const std::exception& e) {
      r.error = e.what();
      log << "  " << op_name(c.op) << " [" << c.shape() << "] FAILED: " << r.error << std::endl;
      rows.push_back(std::move(r));
      continue;
    }
    log << "  " << op_name(c.op) << " [" << c.shape() << "] rows " << c.rows << ": " << r.ours.median_ms << " ms ("
        << r.ours.reps << " reps)" << std::endl;
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace seqcnn::bench
