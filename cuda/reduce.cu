// Column sums of a [rows][cols] matrix without atomics.
#include "reduce.hpp"

#include "check.hpp"

namespace seqcnn::cuda {
namespace {

constexpr int kChunkRows = 128;
constexpr int kBlock = 128;

int64_t chunk_count(int64_t rows) { return (rows + kChunkRows - 1) / kChunkRows; }

// Block (c, g): chunk c of rows, columns g*kBlock + threadIdx.x; each thread
// walks its chunk's rows in order.
__global__ void column_partials_kernel(int64_t rows, int cols, const float* __restrict__ src,
                                       float* __restrict__ partials) {
  const int col = static_cast<int>(blockIdx.y) * kBlock + static_cast<int>(threadIdx.x);
  if (col >= cols) return;
  const int64_t r0 = int64_t{blockIdx.x} * kChunkRows;
  const int64_t r1 = r0 + kChunkRows < rows ? r0 + kChunkRows : rows;
  float sum = 0.0f;
  for (int64_t r = r0; r < r1; ++r) sum += src[r * cols + col];
  partials[int64_t{blockIdx.x} * cols + col] = sum;
}

__global__ void column_finish_kernel(int64_t chunks, int cols, const float* __restrict__ partials,
                                     float* __restrict__ dst) {
  const int col = static_cast<int>(blockIdx.x) * kBlock + static_cast<int>(threadIdx.x);
  if (col >= cols) return;
  float sum = 0.0f;
  for (int64_t c = 0; c < chunks; ++c) sum += partials[c * cols + col];
  dst[col] += sum;
}

}  // namespace

std::size_t column_sums_workspace_bytes(int64_t rows, int cols) {
  if (rows <= 0 || cols <= 0) return 0;
  WorkspaceCarver carver(Workspace{}, "column_sums_accumulate");
  carver.take<float>(static_cast<std::size_t>(chunk_count(rows)) * cols);
  return carver.used();
}

void column_sums_accumulate(int64_t rows, int cols, const float* src, float* dst, Workspace workspace,
                            cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  WorkspaceCarver carver(workspace, "column_sums_accumulate");
  const int64_t chunks = chunk_count(rows);
  float* partials = carver.take<float>(static_cast<std::size_t>(chunks) * cols);
  const dim3 grid(grid_for(rows, kChunkRows, "column_sums_accumulate"), grid_for(cols, kBlock, "column_sums_accumulate"));
  column_partials_kernel<<<grid, kBlock, 0, stream>>>(rows, cols, src, partials);
  CUDA_CHECK_LAUNCH();
  column_finish_kernel<<<grid_for(cols, kBlock, "column_sums_accumulate"), kBlock, 0, stream>>>(chunks, cols,
                                                                                               partials, dst);
  CUDA_CHECK_LAUNCH();
}

}  // namespace seqcnn::cuda
