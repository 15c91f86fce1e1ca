// Embedding lookup and its gradient on the GPU; twins of cpu::embedding_*
// (src/cpu/embedding.hpp holds the math). Device pointers, one stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "workspace.hpp"

namespace seqcnn::cuda {

// out[r][e] = table[tok[r]][e] for real rows with tok != pad, else exactly 0.
// Token ids were checked against the vocabulary when the batch was built.
void embedding_forward(const int32_t* tokens, const uint8_t* row_is_real, int64_t rows, const float* table,
                       int dim, int pad_id, float* out, cudaStream_t stream);

// Vocabularies whose table fits in shared memory take the partial-table path;
// larger ones sort rows by token. Both are deterministic without atomics.
bool embedding_backward_uses_shared_tables(int dim, int vocab);

std::size_t embedding_backward_workspace_bytes(int64_t rows, int dim, int vocab);

// dtable[v][e] += sum of dout[r][e] over real rows r with tok[r] == v != pad.
void embedding_backward(const int32_t* tokens, const uint8_t* row_is_real, int64_t rows, const float* dout,
                        int dim, int vocab, int pad_id, float* dtable, Workspace workspace, cudaStream_t stream);

}  // namespace seqcnn::cuda
