// The shapes the kernel benchmark sweeps, and the work each op must do:
// compulsory bytes (every input read once, every output written once) and
// flops (multiply-adds count two; exp, max and divide count one each).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seqcnn::bench {

enum class Op {
  EmbeddingForward,
  EmbeddingBackward,
  ConvForward,
  ConvEpilogueBackward,
  ConvBackwardData,
  ConvBackwardWeight,
  SoftmaxXent,
  AdamW,
  DenseForward,
  DenseBackward,
};

const char* op_name(Op op);

// One benchmark case. Only the fields the op uses are meaningful:
//   embedding: rows, vocab, channels_out (= embedding dim)
//   conv:      rows, channels_in, channels_out, kernel, dilation, dropout
//   softmax:   rows, classes
//   adamw:     params
//   dense:     rows, channels_in (features), classes
struct KernelCase {
  Op op = Op::ConvForward;
  std::string sweep;  // which sweep it belongs to: "model", "width", "kernel", ...
  int64_t rows = 0;
  int64_t params = 0;
  int vocab = 0;
  int channels_in = 0, channels_out = 0;
  int kernel = 1, dilation = 1;
  int classes = 0;
  float dropout = 0.0f;

  // The halo a batch of this case carries (the conv's reach; 0 otherwise).
  int halo() const;
  // Rows an op computes: [halo, rows - halo).
  int64_t computed_rows() const;
  // "C 128->128 K11 d1" and the like.
  std::string shape() const;
};

struct Work {
  double bytes = 0.0;
  double flops = 0.0;
};

Work compulsory_work(const KernelCase& c);

enum class SweepSize { Quick, Full };

// GPU-sized cases (16k..2M rows). The CPU sweep uses the same shapes with
// rows scaled by cpu_rows() below.
std::vector<KernelCase> kernel_sweep(SweepSize size);

// Rows for the CPU: the GPU rows divided by kCpuRowDivisor, then lowered
// further (to a multiple of 1024, at least 4096) so one call stays under
// kCpuFlopCap flops: two cores do a few hundred GFLOP/s at best.
inline constexpr int64_t kCpuRowDivisor = 16;
inline constexpr double kCpuFlopCap = 8e9;
KernelCase scale_for_cpu(KernelCase c);

}  // namespace seqcnn::bench
