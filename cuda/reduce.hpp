// Deterministic reductions shared by several ops: per-chunk partial sums in
// fixed slots, then one fixed-order pass. Chunks have a fixed number of rows,
// so the order depends on the data's shape only, never on the device.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "workspace.hpp"

namespace seqcnn::cuda {

std::size_t column_sums_workspace_bytes(int64_t rows, int cols);

// dst[c] += sum_{r < rows} src[r * cols + c].
void column_sums_accumulate(int64_t rows, int cols, const float* src, float* dst, Workspace workspace,
                            cudaStream_t stream);

}  // namespace seqcnn::cuda
