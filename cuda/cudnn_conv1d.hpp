// cuDNN baseline for the Conv1D kernels, on the same [rows][C] buffers
// (NHWC with N = 1, H = 1, W = rows) and [K][I][O] weights. Used to compare
// speed and results, never in training.
//
// 'same' padding without asymmetric pads: the packed layout already holds
// at least `halo` zero rows at both ends, so the convolution runs with zero
// padding over all rows, and output j lands on row j + padL. Rows
// [halo, rows - halo) of the result are exactly the 'same' convolution;
// cuDNN's pads (symmetric only) are never needed.
#pragma once

#include <cudnn.h>

#include <cstddef>

#include "common/conv_shape.hpp"
#include "workspace.hpp"

namespace seqcnn::cuda {

class CudnnConv1d {
 public:
  // Describes the shape and picks, per direction, the first algorithm cuDNN
  // ranks that is deterministic, with FMA math only (no TF32).
  CudnnConv1d(cudnnHandle_t handle, const Conv1dShape& shape);
  ~CudnnConv1d();
  CudnnConv1d(const CudnnConv1d&) = delete;
  CudnnConv1d& operator=(const CudnnConv1d&) = delete;

  // Scratch for the filter in cuDNN's layout plus the largest algorithm workspace.
  std::size_t workspace_bytes() const;

  // pre[r][o] = sum_k sum_i W[k][i][o] * x[r + k*d - padL][i] (no bias, no
  // activation) for rows [padL, rows - reach_right), a superset of
  // [halo, rows - halo); follow with conv1d_bias_activation.
  void forward(const float* x, const float* weight, float* pre, Workspace workspace, cudaStream_t stream) const;
  // dx[r][i] = sum_k sum_o W[k][i][o] * dpre[r - k*d + padL][o] for all rows
  // [0, rows) (the edge rows are written too; callers ignore them).
  void backward_data(const float* weight, const float* dpre, float* dx, Workspace workspace,
                     cudaStream_t stream) const;
  // dW[k][i][o] += sum_r x[r + k*d - padL][i] * dpre[r][o]; no bias gradient.
  void backward_weight(const float* x, const float* dpre, float* dweight, Workspace workspace,
                       cudaStream_t stream) const;

  const char* forward_algorithm() const;
  const char* backward_data_algorithm() const;
  const char* backward_weight_algorithm() const;

 private:
  void describe_and_choose();
  void destroy() noexcept;

  cudnnHandle_t handle_;
  Conv1dShape shape_;
  int out_width_ = 0;  // rows - d*(K-1): positions where the filter fits
  cudnnTensorDescriptor_t x_desc_ = nullptr, y_desc_ = nullptr;
  cudnnFilterDescriptor_t w_desc_ = nullptr;
  cudnnConvolutionDescriptor_t conv_desc_ = nullptr;
  cudnnConvolutionFwdAlgo_t fwd_algo_{};
  cudnnConvolutionBwdDataAlgo_t bwd_data_algo_{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter_algo_{};
  std::size_t algo_bytes_ = 0;
};

}  // namespace seqcnn::cuda
