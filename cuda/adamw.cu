// AdamW update and deterministic sum of squares.
#include "adamw.hpp"

#include "check.hpp"
#include "common/op_math.hpp"

namespace seqcnn::cuda {
namespace {

constexpr int kBlock = 256;
constexpr int64_t kSquaresChunk = 8192;  // elements per partial sum

__global__ void adamw_kernel(int64_t n, float* __restrict__ params, const float* __restrict__ grads,
                             float* __restrict__ m, float* __restrict__ v, AdamWConstants c,
                             const AdamWStepInputs* __restrict__ inputs) {
  const AdamWStepInputs in = *inputs;
  if (in.apply == 0) return;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const float decay = i < c.weights_end ? c.decay_weights : (i < c.embedding_end ? c.decay_embedding : c.decay_bias);
    math::adamw_element<float>(params[i], grads[i] * in.grad_scale, m[i], v[i], in.lr, c.beta1, c.beta2, c.eps, decay,
                               in.bias_correction1, in.bias_correction2_sqrt);
  }
}

// Fixed tree over kBlock doubles in shared memory; the result is in tree[0].
__device__ void block_tree_sum(double* tree) {
  __syncthreads();
  for (int half = kBlock / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) tree[threadIdx.x] += tree[threadIdx.x + half];
    __syncthreads();
  }
}

__global__ void __launch_bounds__(kBlock)
    squares_partials_kernel(int64_t n, const float* __restrict__ values, double* __restrict__ partials) {
  __shared__ double tree[kBlock];
  const int64_t begin = int64_t{blockIdx.x} * kSquaresChunk;
  const int64_t end = begin + kSquaresChunk < n ? begin + kSquaresChunk : n;
  double sum = 0.0;
  for (int64_t i = begin + threadIdx.x; i < end; i += kBlock) {
    const double x = static_cast<double>(values[i]);
    sum += x * x;
  }
  tree[threadIdx.x] = sum;
  block_tree_sum(tree);
  if (threadIdx.x == 0) partials[blockIdx.x] = tree[0];
}

__global__ void __launch_bounds__(kBlock)
    squares_finish_kernel(int64_t slots, const double* __restrict__ partials, double* __restrict__ result) {
  __shared__ double tree[kBlock];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < slots; i += kBlock) sum += partials[i];
  tree[threadIdx.x] = sum;
  block_tree_sum(tree);
  if (threadIdx.x == 0) *result = tree[0];
}

int64_t squares_slots(int64_t n) { return (n + kSquaresChunk - 1) / kSquaresChunk; }

}  // namespace

void adamw_update(int64_t n, float* params, const float* grads, float* m, float* v, const AdamWConstants& constants,
                  const AdamWStepInputs* device_inputs, cudaStream_t stream) {
  if (n <= 0) return;
  const long long capped = n < (1LL << 26) ? n : (1LL << 26);
  adamw_kernel<<<grid_for(capped, kBlock, "adamw_update"), kBlock, 0, stream>>>(n, params, grads, m, v, constants,
                                                                               device_inputs);
  CUDA_CHECK_LAUNCH();
}

std::size_t sum_of_squares_workspace_bytes(int64_t n) {
  WorkspaceCarver carver(Workspace{}, "sum_of_squares");
  carver.take<double>(static_cast<std::size_t>(squares_slots(n > 0 ? n : 0)));
  return carver.used();
}

void sum_of_squares(int64_t n, const float* values, double* device_result, Workspace workspace, cudaStream_t stream) {
  if (n <= 0) {
    CUDA_CHECK(cudaMemsetAsync(device_result, 0, sizeof(double), stream));
    return;
  }
  WorkspaceCarver carver(workspace, "sum_of_squares");
  const int64_t slots = squares_slots(n);
  double* partials = carver.take<double>(static_cast<std::size_t>(slots));
  squares_partials_kernel<<<grid_for(n, static_cast<int>(kSquaresChunk), "sum_of_squares"), kBlock, 0, stream>>>(
      n, values, partials);
  CUDA_CHECK_LAUNCH();
  squares_finish_kernel<<<1, kBlock, 0, stream>>>(slots, partials, device_result);
  CUDA_CHECK_LAUNCH();
}

}  // namespace seqcnn::cuda
