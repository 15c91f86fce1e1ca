// Embedding kernels. The backward pass never uses float atomics: every
// table entry is summed by one thread in a fixed order, so results are
// bitwise reproducible run to run.
#include "embedding.hpp"

#include <cub/device/device_radix_sort.cuh>

#include <climits>
#include <string>

#include "check.hpp"

namespace seqcnn::cuda {
namespace {

constexpr int kBlock = 256;
// Rows per partial table: fixed, so the summation order depends only on the
// batch, never on the grid size or the device.
constexpr int kChunkRows = 256;
// The partial table plus the chunk's token ids must fit the 48 KiB of shared
// memory a block gets without opting in.
constexpr std::size_t kSharedTableBytes = 48 * 1024 - kChunkRows * sizeof(int32_t) - 1024;

__global__ void embedding_forward_kernel(const int32_t* __restrict__ tokens, const uint8_t* __restrict__ row_is_real,
                                         int64_t rows, const float* __restrict__ table, int dim, int pad_id,
                                         float* __restrict__ out) {
  const int64_t total = rows * dim;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = idx / dim;
    const int e = static_cast<int>(idx - r * dim);
    const int32_t tok = tokens[r];
    out[idx] = ((row_is_real == nullptr || row_is_real[r] != 0) && tok != pad_id) ? table[int64_t{tok} * dim + e] : 0.0f;
  }
}

// One block per chunk of kChunkRows rows: a private [V][E] table in shared
// memory; thread t owns columns t, t + blockDim, ... and walks the rows in
// order, so each entry is a fixed-order sum.
__global__ void embedding_partial_tables_kernel(const int32_t* __restrict__ tokens,
                                                const uint8_t* __restrict__ row_is_real, int64_t rows,
                                                const float* __restrict__ dout, int dim, int vocab, int pad_id,
                                                float* __restrict__ partials) {
  extern __shared__ float table[];
  __shared__ int32_t chunk_tokens[kChunkRows];
  const int table_size = vocab * dim;
  for (int j = threadIdx.x; j < table_size; j += blockDim.x) table[j] = 0.0f;
  const int64_t row0 = int64_t{blockIdx.x} * kChunkRows;
  const int chunk = static_cast<int>(rows - row0 < kChunkRows ? rows - row0 : kChunkRows);
  for (int j = threadIdx.x; j < chunk; j += blockDim.x) {
    const int32_t tok = tokens[row0 + j];
    const bool counts = (row_is_real == nullptr || row_is_real[row0 + j] != 0) && tok != pad_id && tok >= 0 && tok < vocab;
    chunk_tokens[j] = counts ? tok : -1;
  }
  __syncthreads();
  for (int e = threadIdx.x; e < dim; e += blockDim.x) {
    for (int j = 0; j < chunk; ++j) {
      const int32_t tok = chunk_tokens[j];
      if (tok >= 0) table[tok * dim + e] += dout[(row0 + j) * dim + e];
    }
  }
  __syncthreads();
  float* mine = partials + int64_t{blockIdx.x} * table_size;
  for (int j = threadIdx.x; j < table_size; j += blockDim.x) mine[j] = table[j];
}

// dtable[j] += sum over chunks c in order of partials[c][j]; the pad row is skipped.
__global__ void embedding_reduce_tables_kernel(const float* __restrict__ partials, int chunks, int dim, int vocab,
                                               int pad_id, float* __restrict__ dtable) {
  const int table_size = vocab * dim;
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= table_size || j / dim == pad_id) return;
  float sum = 0.0f;
  for (int c = 0; c < chunks; ++c) sum += partials[int64_t{c} * table_size + j];
  dtable[j] += sum;
}

// Sort keys: the token of a row that gets a gradient, else `vocab` (sorted last).
__global__ void embedding_sort_keys_kernel(const int32_t* __restrict__ tokens, const uint8_t* __restrict__ row_is_real,
                                           int64_t rows, int vocab, int pad_id, uint32_t* __restrict__ keys,
                                           int32_t* __restrict__ row_ids) {
  const int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (r >= rows) return;
  const int32_t tok = tokens[r];
  const bool counts = (row_is_real == nullptr || row_is_real[r] != 0) && tok != pad_id && tok >= 0 && tok < vocab;
  keys[r] = counts ? static_cast<uint32_t>(tok) : static_cast<uint32_t>(vocab);
  row_ids[r] = static_cast<int32_t>(r);
}

// One block per sorted position; only the first position of each token's
// run does work: it sums that token's rows in ascending row order (the
// radix sort is stable) and adds the sum to the table.
__global__ void embedding_segment_reduce_kernel(const uint32_t* __restrict__ sorted_keys,
                                                const int32_t* __restrict__ sorted_rows, int64_t rows,
                                                const float* __restrict__ dout, int dim, int vocab,
                                                float* __restrict__ dtable) {
  const int64_t i = blockIdx.x;
  const uint32_t key = sorted_keys[i];
  if (key == static_cast<uint32_t>(vocab)) return;
  if (i > 0 && sorted_keys[i - 1] == key) return;
  for (int e = threadIdx.x; e < dim; e += blockDim.x) {
    float sum = 0.0f;
    for (int64_t j = i; j < rows && sorted_keys[j] == key; ++j) sum += dout[int64_t{sorted_rows[j]} * dim + e];
    dtable[int64_t{key} * dim + e] += sum;
  }
}

int key_bits(int vocab) {
  int bits = 1;
  while (bits < 32 && (uint32_t{1} << bits) <= static_cast<uint32_t>(vocab)) ++bits;
  return bits;  // enough to hold 0..vocab (the sentinel included)
}

struct SortScratch {
  uint32_t* keys = nullptr;
  uint32_t* sorted_keys = nullptr;
  int32_t* row_ids = nullptr;
  int32_t* sorted_rows = nullptr;
  void* cub_temp = nullptr;
  std::size_t cub_temp_bytes = 0;
};

struct TableScratch {
  float* partials = nullptr;
  int chunks = 0;
};

int chunk_count(int64_t rows) { return static_cast<int>((rows + kChunkRows - 1) / kChunkRows); }

TableScratch carve_tables(WorkspaceCarver& carver, int64_t rows, int dim, int vocab) {
  TableScratch s;
  s.chunks = chunk_count(rows);
  s.partials = carver.take<float>(static_cast<std::size_t>(s.chunks) * vocab * dim);
  return s;
}

SortScratch carve_sort(WorkspaceCarver& carver, int64_t rows, int vocab) {
  SortScratch s;
  const auto n = static_cast<std::size_t>(rows);
  s.keys = carver.take<uint32_t>(n);
  s.sorted_keys = carver.take<uint32_t>(n);
  s.row_ids = carver.take<int32_t>(n);
  s.sorted_rows = carver.take<int32_t>(n);
  CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, s.cub_temp_bytes, s.keys, s.sorted_keys, s.row_ids,
                                             s.sorted_rows, static_cast<int>(rows), 0, key_bits(vocab)));
  s.cub_temp = carver.take<char>(s.cub_temp_bytes);
  return s;
}

void check_rows(int64_t rows, const char* op) {
  if (rows > INT_MAX)
    throw DeviceError(std::string(op) + ": " + std::to_string(rows) + " rows exceed the supported " +
                      std::to_string(INT_MAX));
}

}  // namespace

void embedding_forward(const int32_t* tokens, const uint8_t* row_is_real, int64_t rows, const float* table,
                       int dim, int pad_id, float* out, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  const long long total = rows * dim;
  const unsigned grid = grid_for(total < (1LL << 24) ? total : (1LL << 24), kBlock, "embedding_forward");
  embedding_forward_kernel<<<grid, kBlock, 0, stream>>>(tokens, row_is_real, rows, table, dim, pad_id, out);
  CUDA_CHECK_LAUNCH();
}

bool embedding_backward_uses_shared_tables(int dim, int vocab) {
  return static_cast<std::size_t>(vocab) * static_cast<std::size_t>(dim) * sizeof(float) <= kSharedTableBytes;
}

std::size_t embedding_backward_workspace_bytes(int64_t rows, int dim, int vocab) {
  if (rows <= 0 || dim <= 0) return 0;
  check_rows(rows, "embedding_backward");
  WorkspaceCarver carver(Workspace{}, "embedding_backward");
  if (embedding_backward_uses_shared_tables(dim, vocab))
    carve_tables(carver, rows, dim, vocab);
  else
    carve_sort(carver, rows, vocab);
  return carver.used();
}

void embedding_backward(const int32_t* tokens, const uint8_t* row_is_real, int64_t rows, const float* dout,
                        int dim, int vocab, int pad_id, float* dtable, Workspace workspace, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0 || vocab <= 0) return;
  check_rows(rows, "embedding_backward");
  WorkspaceCarver carver(workspace, "embedding_backward");
  const int block = dim >= kBlock ? kBlock : (dim + 31) / 32 * 32;
  if (embedding_backward_uses_shared_tables(dim, vocab)) {
    const TableScratch s = carve_tables(carver, rows, dim, vocab);
    const std::size_t shared = static_cast<std::size_t>(vocab) * dim * sizeof(float);
    embedding_partial_tables_kernel<<<static_cast<unsigned>(s.chunks), block, shared, stream>>>(
        tokens, row_is_real, rows, dout, dim, vocab, pad_id, s.partials);
    CUDA_CHECK_LAUNCH();
    embedding_reduce_tables_kernel<<<grid_for(int64_t{vocab} * dim, kBlock, "embedding_backward"), kBlock, 0,
                                     stream>>>(s.partials, s.chunks, dim, vocab, pad_id, dtable);
    CUDA_CHECK_LAUNCH();
    return;
  }
  SortScratch s = carve_sort(carver, rows, vocab);
  embedding_sort_keys_kernel<<<grid_for(rows, kBlock, "embedding_backward"), kBlock, 0, stream>>>(
      tokens, row_is_real, rows, vocab, pad_id, s.keys, s.row_ids);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cub::DeviceRadixSort::SortPairs(s.cub_temp, s.cub_temp_bytes, s.keys, s.sorted_keys, s.row_ids,
                                             s.sorted_rows, static_cast<int>(rows), 0, key_bits(vocab), stream));
  embedding_segment_reduce_kernel<<<static_cast<unsigned>(rows), block, 0, stream>>>(
      s.sorted_keys, s.sorted_rows, rows, dout, dim, vocab, dtable);
  CUDA_CHECK_LAUNCH();
}

}  // namespace seqcnn::cuda
