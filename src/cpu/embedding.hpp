// Embedding lookup, CPU reference.
//   forward:  x0[r][e] = E[tok[r]][e] if row r is real and tok[r] != pad, else 0
//   backward: dE[v][e] += sum over real rows r with tok[r] == v != pad of dx0[r][e]
// The pad row gets no gradient, whatever its count (it never learns).
// row_is_real may be null (every row real). Backward throws InputError for
// an id outside [0, vocab) on a row that would learn, before writing.
#pragma once

#include <cstdint>

namespace seqcnn::cpu {

template <class T>
void embedding_forward(const int32_t* tokens, const uint8_t* row_is_real, int64_t rows, const T* table,
                       int dim, int pad_id, T* out);

template <class T>
void embedding_backward(const int32_t* tokens, const uint8_t* row_is_real, int64_t rows, const T* dout,
                        int dim, int vocab, int pad_id, T* dtable);

}  // namespace seqcnn::cpu
