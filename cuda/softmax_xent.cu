// Softmax + masked cross-entropy, one warp per row (lanes stride over the
// classes, so any class count works; the row stays in L1 between passes).
// Block b owns the fixed rows [b*kRowsPerBlock, (b+1)*kRowsPerBlock): warp w
// takes rows w, w + kWarps, ... of it, sums its loss in order, and the
// block adds its warps in order into slot b. A final single-block pass sums
// the slots in a fixed order: no atomics, bitwise reproducible.
#include "softmax_xent.hpp"

#include <cmath>

#include "check.hpp"
#include "warp.cuh"

namespace seqcnn::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kRowsPerBlock = 64;
constexpr int kFinishThreads = 256;

struct XentPartial {
  double loss;
  long long counted;
  long long correct;
};

// -log p_c = (shift - z_c) + log_sum, with a -inf logit giving +inf.
__device__ __forceinline__ float nll(float shift, float log_sum, float z_c) {
  return z_c == -INFINITY ? INFINITY : (shift - z_c) + log_sum;
}

__global__ void __launch_bounds__(kWarps * 32)
    softmax_xent_kernel(int64_t rows, int classes, const float* __restrict__ logits, const int32_t* __restrict__ labels,
                        const float* __restrict__ row_scale, const float* __restrict__ class_weights,
                        float label_smoothing, float* __restrict__ dlogits, XentPartial* __restrict__ partials) {
  __shared__ XentPartial warp_totals[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  const int64_t block_row0 = int64_t{blockIdx.x} * kRowsPerBlock;
  const float eps = label_smoothing;
  const float one_minus_eps = 1.0f - eps;
  const float eps_per_class = eps / static_cast<float>(classes);
  // W = sum_c w_c, summed in class order like the CPU reference (once per block).
  __shared__ float shared_weight_total;
  if (threadIdx.x == 0) {
    float total = 0.0f;
    for (int c = 0; c < classes; ++c) total += class_weights != nullptr ? class_weights[c] : 1.0f;
    shared_weight_total = total;
  }
  __syncthreads();
  const float weight_total = shared_weight_total;
  XentPartial mine{0.0, 0, 0};

  for (int j = warp; j < kRowsPerBlock; j += kWarps) {
    const int64_t r = block_row0 + j;
    if (r >= rows) break;
    const float* z = logits + r * classes;
    float* dz = dlogits != nullptr ? dlogits + r * classes : nullptr;
    const int32_t label = labels[r];
    const float scale = row_scale != nullptr ? row_scale[r] : 1.0f;
    if (label < 0 || label >= classes || scale == 0.0f) {
      if (dz != nullptr)
        for (int c = lane; c < classes; c += 32) dz[c] = 0.0f;
      continue;
    }
    // The first maximum is the shift and the prediction; a row of all -inf
    // logits is treated as uniform (no (-inf) - (-inf)), as on the CPU.
    // NaN logits take no part in the comparisons (so every lane agrees on
    // the result) except in class 0, where the CPU's scan starts.
    ArgMax best{-INFINITY, 0x7fffffff};
    for (int c = lane; c < classes; c += 32)
      if (z[c] > best.value || (z[c] == best.value && c < best.index)) best = ArgMax{z[c], c};
    best = warp_argmax(best);
    if (isnan(z[0])) best = ArgMax{z[0], 0};
    const float shift = best.value;
    const bool all_minus_inf = shift == -INFINITY;
    float sum_exp = 0.0f;
    for (int c = lane; c < classes; c += 32) sum_exp += all_minus_inf ? 1.0f : expf(z[c] - shift);
    sum_exp = warp_sum(sum_exp);
    const float log_sum = logf(sum_exp);
    const float w_y = class_weights != nullptr ? class_weights[label] : 1.0f;

    // Terms whose coefficient is 0 are skipped, never multiplied (0 * inf).
    double row_loss = 0.0;
    if (one_minus_eps != 0.0f && w_y != 0.0f)
      row_loss = static_cast<double>(one_minus_eps * w_y) * static_cast<double>(nll(shift, log_sum, z[label]));
    if (eps != 0.0f) {
      double smoothed = 0.0;
      for (int c = lane; c < classes; c += 32) {
        const float w_c = class_weights != nullptr ? class_weights[c] : 1.0f;
        if (w_c != 0.0f) smoothed += static_cast<double>(w_c) * static_cast<double>(nll(shift, log_sum, z[c]));
      }
      row_loss += static_cast<double>(eps_per_class) * warp_sum(smoothed);
    }

    if (dz != nullptr) {
      const float hard = scale * one_minus_eps * w_y;
      const float soft = scale * eps_per_class;
      for (int c = lane; c < classes; c += 32) {
        const float p = (all_minus_inf ? 1.0f : expf(z[c] - shift)) / sum_exp;
        float g = hard * (p - (c == label ? 1.0f : 0.0f));
        if (eps != 0.0f) g += soft * (weight_total * p - (class_weights != nullptr ? class_weights[c] : 1.0f));
        dz[c] = g;
      }
    }
    if (lane == 0) {
      mine.loss += static_cast<double>(scale) * row_loss;
      mine.counted += 1;
      mine.correct += best.index == label ? 1 : 0;
    }
  }
  if (lane == 0) warp_totals[warp] = mine;
  __syncthreads();
  if (threadIdx.x == 0) {
    XentPartial block{0.0, 0, 0};
    for (int w = 0; w < kWarps; ++w) {
      block.loss += warp_totals[w].loss;
      block.counted += warp_totals[w].counted;
      block.correct += warp_totals[w].correct;
    }
    partials[blockIdx.x] = block;
  }
}

// One block: thread t sums slots t, t + kFinishThreads, ... in order, then a
// fixed tree in shared memory; thread 0 adds the result to the totals.
__global__ void __launch_bounds__(kFinishThreads)
    xent_finish_kernel(int64_t slots, const XentPartial* __restrict__ partials, DeviceXentTotals* __restrict__ totals) {
  __shared__ XentPartial tree[kFinishThreads];
  XentPartial mine{0.0, 0, 0};
  for (int64_t i = threadIdx.x; i < slots; i += kFinishThreads) {
    mine.loss += partials[i].loss;
    mine.counted += partials[i].counted;
    mine.correct += partials[i].correct;
  }
  tree[threadIdx.x] = mine;
  __syncthreads();
  for (int half = kFinishThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      tree[threadIdx.x].loss += tree[threadIdx.x + half].loss;
      tree[threadIdx.x].counted += tree[threadIdx.x + half].counted;
      tree[threadIdx.x].correct += tree[threadIdx.x + half].correct;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    totals->loss += tree[0].loss;
    totals->counted += tree[0].counted;
    totals->correct += tree[0].correct;
  }
}

__global__ void __launch_bounds__(kWarps * 32)
    softmax_forward_kernel(int64_t rows, int classes, const float* __restrict__ logits, float* __restrict__ probabilities) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t r = int64_t{blockIdx.x} * kWarps + threadIdx.x / 32;
  if (r >= rows) return;
  const float* z = logits + r * classes;
  float shift = -INFINITY;
  for (int c = lane; c < classes; c += 32) shift = fmaxf(shift, z[c]);
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) shift = fmaxf(shift, __shfl_xor_sync(kFullWarp, shift, offset));
  const bool all_minus_inf = shift == -INFINITY;  // uniform, as on the CPU
  float sum_exp = 0.0f;
  for (int c = lane; c < classes; c += 32) sum_exp += all_minus_inf ? 1.0f : expf(z[c] - shift);
  sum_exp = warp_sum(sum_exp);
  for (int c = lane; c < classes; c += 32)
    probabilities[r * classes + c] = (all_minus_inf ? 1.0f : expf(z[c] - shift)) / sum_exp;
}

int64_t slot_count(int64_t rows) { return (rows + kRowsPerBlock - 1) / kRowsPerBlock; }

}  // namespace

std::size_t softmax_xent_workspace_bytes(int64_t rows) {
  WorkspaceCarver carver(Workspace{}, "softmax_xent");
  carver.take<XentPartial>(static_cast<std::size_t>(slot_count(rows > 0 ? rows : 0)));
  return carver.used();
}

void softmax_xent(int64_t rows, int classes, const float* logits, const int32_t* labels, const float* row_scale,
                  const float* class_weights, float label_smoothing, float* dlogits, DeviceXentTotals* totals,
                  Workspace workspace, cudaStream_t stream) {
  if (rows <= 0 || classes <= 0) return;
  WorkspaceCarver carver(workspace, "softmax_xent");
  const int64_t slots = slot_count(rows);
  XentPartial* partials = carver.take<XentPartial>(static_cast<std::size_t>(slots));
  softmax_xent_kernel<<<grid_for(rows, kRowsPerBlock, "softmax_xent"), kWarps * 32, 0, stream>>>(
      rows, classes, logits, labels, row_scale, class_weights, label_smoothing, dlogits, partials);
  CUDA_CHECK_LAUNCH();
  xent_finish_kernel<<<1, kFinishThreads, 0, stream>>>(slots, partials, totals);
  CUDA_CHECK_LAUNCH();
}

void softmax_forward(int64_t rows, int classes, const float* logits, float* probabilities, cudaStream_t stream) {
  if (rows <= 0 || classes <= 0) return;
  softmax_forward_kernel<<<grid_for(rows, kWarps, "softmax_forward"), kWarps * 32, 0, stream>>>(rows, classes, logits,
                                                                                                probabilities);
  CUDA_CHECK_LAUNCH();
}

}  // namespace seqcnn::cuda
