// Warp-level reductions. The xor butterfly gives every lane the same,
// order-fixed result (a + b == b + a bitwise), so they are deterministic.
#pragma once

namespace seqcnn::cuda {

constexpr unsigned kFullWarp = 0xffffffffu;

template <class T>
__device__ __forceinline__ T warp_sum(T value) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(kFullWarp, value, offset);
  return value;
}

// First (lowest-index) maximum: ties go to the smaller index.
struct ArgMax {
  float value;
  int index;
};

__device__ __forceinline__ ArgMax better_of(ArgMax a, ArgMax b) {
  return (b.value > a.value || (b.value == a.value && b.index < a.index)) ? b : a;
}

__device__ __forceinline__ ArgMax warp_argmax(ArgMax best) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    ArgMax other;
    other.value = __shfl_xor_sync(kFullWarp, best.value, offset);
    other.index = __shfl_xor_sync(kFullWarp, best.index, offset);
    best = better_of(best, other);
  }
  return best;
}

}  // namespace seqcnn::cuda
