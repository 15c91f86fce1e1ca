// Row-major GEMM for the CPU ops: C = alpha * op(A) * op(B) + beta * C.
// One call runs on the calling thread; the ops split their rows into
// fixed-size chunks and run the chunks in parallel, so a result never
// depends on the thread count.
#pragma once

#include <cstdint>

namespace seqcnn::cpu {

enum class Transpose : bool { No = false, Yes = true };

// op(A) is m x k, op(B) is k x n, C is m x n; lda/ldb/ldc are the row
// strides of the matrices as stored. beta == 0 overwrites C (a NaN already
// in C does not survive), as BLAS does.
template <class T>
void gemm(Transpose trans_a, Transpose trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// The built-in cache-blocked loops that gemm uses when no CBLAS is linked;
// exposed so tests check them on machines that do have one.
template <class T>
void gemm_blocked(Transpose trans_a, Transpose trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// True when gemm calls a CBLAS (OpenBLAS) rather than the built-in loops.
bool gemm_uses_blas();

}  // namespace seqcnn::cpu
