#include "cpu/gemm.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

#if defined(SEQCNN_HAVE_BLAS)
#include <cblas.h>
#endif

namespace seqcnn::cpu {
namespace {

// Blocks sized so a packed panel of B (kKBlock x kNBlock) stays in L2 and a
// row of it in L1 while the rows of A stream past.
constexpr int64_t kMBlock = 64;
constexpr int64_t kNBlock = 256;
constexpr int64_t kKBlock = 256;

template <class T>
T element(const T* m, int64_t ld, Transpose trans, int64_t row, int64_t col) {
  return trans == Transpose::Yes ? m[col * ld + row] : m[row * ld + col];
}

template <class T>
void scale_c(int64_t m, int64_t n, T beta, T* c, int64_t ldc) {
  if (beta == T(1)) return;
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      std::fill(row, row + n, T(0));
    } else {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

#if defined(SEQCNN_HAVE_BLAS)
// OpenBLAS would otherwise start its own thread pool inside our OpenMP
// chunks; one thread per call keeps the chunking (and the results) ours.
void single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

CBLAS_TRANSPOSE to_cblas(Transpose t) { return t == Transpose::Yes ? CblasTrans : CblasNoTrans; }

void blas_gemm(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), alpha, a, static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
              static_cast<blasint>(ldc));
}

void blas_gemm(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
               int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), alpha, a, static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
              static_cast<blasint>(ldc));
}
#endif

}  // namespace

template <class T>
void gemm_blocked(Transpose trans_a, Transpose trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  scale_c(m, n, beta, c, ldc);
  if (k <= 0 || alpha == T(0)) return;
  // Panels of op(A) and op(B) are copied into plain row-major blocks, so one
  // inner loop (contiguous over the columns of C) serves every transpose.
  thread_local std::vector<T> a_panel, b_panel;
  a_panel.resize(static_cast<size_t>(kMBlock * kKBlock));
  b_panel.resize(static_cast<size_t>(kKBlock * kNBlock));
  for (int64_t j0 = 0; j0 < n; j0 += kNBlock) {
    const int64_t nb = std::min(kNBlock, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += kKBlock) {
      const int64_t kb = std::min(kKBlock, k - p0);
      for (int64_t p = 0; p < kb; ++p)
        for (int64_t j = 0; j < nb; ++j) b_panel[p * nb + j] = element(b, ldb, trans_b, p0 + p, j0 + j);
      for (int64_t i0 = 0; i0 < m; i0 += kMBlock) {
        const int64_t mb = std::min(kMBlock, m - i0);
        for (int64_t i = 0; i < mb; ++i)
          for (int64_t p = 0; p < kb; ++p) a_panel[i * kb + p] = alpha * element(a, lda, trans_a, i0 + i, p0 + p);
        for (int64_t i = 0; i < mb; ++i) {
          T* __restrict__ c_row = c + (i0 + i) * ldc + j0;
          const T* a_row = a_panel.data() + i * kb;
          for (int64_t p = 0; p < kb; ++p) {
            const T a_ip = a_row[p];
            const T* __restrict__ b_row = b_panel.data() + p * nb;
            for (int64_t j = 0; j < nb; ++j) c_row[j] += a_ip * b_row[j];
          }
        }
      }
    }
  }
}

template <class T>
void gemm(Transpose trans_a, Transpose trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
#if defined(SEQCNN_HAVE_BLAS)
  if (k > 0) {
    single_threaded_blas();
    blas_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
#endif
  gemm_blocked(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

bool gemm_uses_blas() {
#if defined(SEQCNN_HAVE_BLAS)
  return true;
#else
  return false;
#endif
}

template void gemm<float>(Transpose, Transpose, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(Transpose, Transpose, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);
template void gemm_blocked<float>(Transpose, Transpose, int64_t, int64_t, int64_t, float, const float*, int64_t,
                                  const float*, int64_t, float, float*, int64_t);
template void gemm_blocked<double>(Transpose, Transpose, int64_t, int64_t, int64_t, double, const double*, int64_t,
                                   const double*, int64_t, double, double*, int64_t);

}  // namespace seqcnn::cpu
