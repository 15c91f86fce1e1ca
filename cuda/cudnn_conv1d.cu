// cuDNN Conv1D baseline through the legacy cudnnConvolution* API (see
// docs/cuda.md for why this API rather than the backend graph API).
#include "cudnn_conv1d.hpp"

#include <string>

#include "check.hpp"

namespace seqcnn::cuda {
namespace {

// [K][I][O] -> cuDNN's NHWC filter [O][H=1][W=K][I].
__global__ void filter_to_cudnn_kernel(int kernel, int in_ch, int out_ch, const float* __restrict__ kio,
                                       float* __restrict__ oki) {
  const int64_t total = int64_t{kernel} * in_ch * out_ch;
  const int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (idx >= total) return;
  const int i = static_cast<int>(idx % in_ch);
  const int k = static_cast<int>((idx / in_ch) % kernel);
  const int o = static_cast<int>(idx / (int64_t{in_ch} * kernel));
  oki[idx] = kio[(int64_t{k} * in_ch + i) * out_ch + o];
}

// dW[k][i][o] += cuDNN's [O][K][I] result.
__global__ void add_filter_from_cudnn_kernel(int kernel, int in_ch, int out_ch, const float* __restrict__ oki,
                                             float* __restrict__ kio) {
  const int64_t total = int64_t{kernel} * in_ch * out_ch;
  const int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (idx >= total) return;
  const int o = static_cast<int>(idx % out_ch);
  const int i = static_cast<int>((idx / out_ch) % in_ch);
  const int k = static_cast<int>(idx / (int64_t{out_ch} * in_ch));
  kio[idx] += oki[(int64_t{o} * kernel + k) * in_ch + i];
}

// Picks the first (fastest-ranked) deterministic algorithm that ran.
template <class Perf>
Perf first_deterministic(const Perf* perf, int count, const char* direction) {
  for (int j = 0; j < count; ++j)
    if (perf[j].status == CUDNN_STATUS_SUCCESS && perf[j].determinism == CUDNN_DETERMINISTIC &&
        perf[j].mathType != CUDNN_TENSOR_OP_MATH && perf[j].mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
      return perf[j];
  throw DeviceError(std::string("cuDNN offers no deterministic FMA algorithm for the Conv1D ") + direction);
}

struct FilterScratch {
  float* filter = nullptr;
  void* algo = nullptr;
};

FilterScratch carve(WorkspaceCarver& carver, const Conv1dShape& s, std::size_t algo_bytes) {
  FilterScratch scratch;
  scratch.filter = carver.take<float>(static_cast<std::size_t>(s.kernel) * s.in_channels * s.out_channels);
  scratch.algo = carver.take<char>(algo_bytes);
  return scratch;
}

unsigned filter_grid(const Conv1dShape& s) {
  return grid_for(int64_t{s.kernel} * s.in_channels * s.out_channels, 256, "cudnn_conv1d filter transpose");
}

}  // namespace

CudnnConv1d::CudnnConv1d(cudnnHandle_t handle, const Conv1dShape& shape) : handle_(handle), shape_(shape) {
  const int64_t width = shape.rows - int64_t{shape.dilation} * (shape.kernel - 1);
  if (width <= 0 || shape.rows > 0x7fffffff)
    throw DeviceError("cudnn_conv1d: " + std::to_string(shape.rows) + " rows do not fit a kernel of " +
                      std::to_string(shape.kernel) + " taps at dilation " + std::to_string(shape.dilation));
  out_width_ = static_cast<int>(width);
  try {
    describe_and_choose();
  } catch (...) {
    destroy();  // the destructor does not run for a throwing constructor
    throw;
  }
}

void CudnnConv1d::describe_and_choose() {
  const Conv1dShape& shape = shape_;
  const int rows = static_cast<int>(shape.rows);
  CUDNN_CHECK(cudnnCreateTensorDescriptor(&x_desc_));
  CUDNN_CHECK(cudnnCreateTensorDescriptor(&y_desc_));
  CUDNN_CHECK(cudnnCreateFilterDescriptor(&w_desc_));
  CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv_desc_));
  CUDNN_CHECK(cudnnSetTensor4dDescriptor(x_desc_, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, shape.in_channels, 1, rows));
  CUDNN_CHECK(
      cudnnSetTensor4dDescriptor(y_desc_, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, shape.out_channels, 1, out_width_));
  CUDNN_CHECK(cudnnSetFilter4dDescriptor(w_desc_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, shape.out_channels,
                                         shape.in_channels, 1, shape.kernel));
  CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv_desc_, 0, 0, 1, 1, 1, shape.dilation, CUDNN_CROSS_CORRELATION,
                                              CUDNN_DATA_FLOAT));
  CUDNN_CHECK(cudnnSetConvolutionMathType(conv_desc_, CUDNN_FMA_MATH));

  int returned = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle_, x_desc_, w_desc_, conv_desc_, y_desc_,
                                                     CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, fwd));
  const auto f = first_deterministic(fwd, returned, "forward");
  cudnnConvolutionBwdDataAlgoPerf_t bwd_data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle_, w_desc_, y_desc_, conv_desc_, x_desc_,
                                                          CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &returned, bwd_data));
  const auto d = first_deterministic(bwd_data, returned, "backward data");
  cudnnConvolutionBwdFilterAlgoPerf_t bwd_filter[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle_, x_desc_, y_desc_, conv_desc_, w_desc_,
                                                            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned,
                                                            bwd_filter));
  const auto w = first_deterministic(bwd_filter, returned, "backward filter");
  fwd_algo_ = f.algo;
  bwd_data_algo_ = d.algo;
  bwd_filter_algo_ = w.algo;
  algo_bytes_ = f.memory;
  if (d.memory > algo_bytes_) algo_bytes_ = d.memory;
  if (w.memory > algo_bytes_) algo_bytes_ = w.memory;
}

CudnnConv1d::~CudnnConv1d() { destroy(); }

void CudnnConv1d::destroy() noexcept {
  if (conv_desc_ != nullptr) (void)cudnnDestroyConvolutionDescriptor(conv_desc_);
  if (w_desc_ != nullptr) (void)cudnnDestroyFilterDescriptor(w_desc_);
  if (y_desc_ != nullptr) (void)cudnnDestroyTensorDescriptor(y_desc_);
  if (x_desc_ != nullptr) (void)cudnnDestroyTensorDescriptor(x_desc_);
  conv_desc_ = nullptr;
  w_desc_ = nullptr;
  y_desc_ = nullptr;
  x_desc_ = nullptr;
}

std::size_t CudnnConv1d::workspace_bytes() const {
  WorkspaceCarver carver(Workspace{}, "cudnn_conv1d");
  carve(carver, shape_, algo_bytes_);
  return carver.used();
}

void CudnnConv1d::forward(const float* x, const float* weight, float* pre, Workspace workspace,
                          cudaStream_t stream) const {
  WorkspaceCarver carver(workspace, "cudnn_conv1d forward");
  const FilterScratch s = carve(carver, shape_, algo_bytes_);
  filter_to_cudnn_kernel<<<filter_grid(shape_), 256, 0, stream>>>(shape_.kernel, shape_.in_channels,
                                                                   shape_.out_channels, weight, s.filter);
  CUDA_CHECK_LAUNCH();
  CUDNN_CHECK(cudnnSetStream(handle_, stream));
  const float one = 1.0f, zero = 0.0f;
  float* out = pre + int64_t{shape_.pad_left()} * shape_.out_channels;
  CUDNN_CHECK(cudnnConvolutionForward(handle_, &one, x_desc_, x, w_desc_, s.filter, conv_desc_, fwd_algo_, s.algo,
                                      algo_bytes_, &zero, y_desc_, out));
}

void CudnnConv1d::backward_data(const float* weight, const float* dpre, float* dx, Workspace workspace,
                                cudaStream_t stream) const {
  WorkspaceCarver carver(workspace, "cudnn_conv1d backward data");
  const FilterScratch s = carve(carver, shape_, algo_bytes_);
  filter_to_cudnn_kernel<<<filter_grid(shape_), 256, 0, stream>>>(shape_.kernel, shape_.in_channels,
                                                                   shape_.out_channels, weight, s.filter);
  CUDA_CHECK_LAUNCH();
  CUDNN_CHECK(cudnnSetStream(handle_, stream));
  const float one = 1.0f, zero = 0.0f;
  const float* dy = dpre + int64_t{shape_.pad_left()} * shape_.out_channels;
  CUDNN_CHECK(cudnnConvolutionBackwardData(handle_, &one, w_desc_, s.filter, y_desc_, dy, conv_desc_, bwd_data_algo_,
                                           s.algo, algo_bytes_, &zero, x_desc_, dx));
}

void CudnnConv1d::backward_weight(const float* x, const float* dpre, float* dweight, Workspace workspace,
                                  cudaStream_t stream) const {
  WorkspaceCarver carver(workspace, "cudnn_conv1d backward weight");
  const FilterScratch s = carve(carver, shape_, algo_bytes_);
  CUDNN_CHECK(cudnnSetStream(handle_, stream));
  const float one = 1.0f, zero = 0.0f;
  const float* dy = dpre + int64_t{shape_.pad_left()} * shape_.out_channels;
  CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle_, &one, x_desc_, x, y_desc_, dy, conv_desc_, bwd_filter_algo_,
                                             s.algo, algo_bytes_, &zero, w_desc_, s.filter));
  add_filter_from_cudnn_kernel<<<filter_grid(shape_), 256, 0, stream>>>(shape_.kernel, shape_.in_channels,
                                                                         shape_.out_channels, s.filter, dweight);
  CUDA_CHECK_LAUNCH();
}

namespace {

const char* const kFwdNames[] = {"implicit_gemm", "implicit_precomp_gemm", "gemm", "direct",
                                 "fft", "fft_tiling", "winograd", "winograd_nonfused"};
const char* const kBwdDataNames[] = {"algo_0", "algo_1", "fft", "fft_tiling", "winograd", "winograd_nonfused"};
const char* const kBwdFilterNames[] = {"algo_0", "algo_1", "fft", "algo_3", "winograd", "winograd_nonfused",
                                       "fft_tiling"};

template <std::size_t N>
const char* name_of(const char* const (&names)[N], int algo) {
  return algo >= 0 && static_cast<std::size_t>(algo) < N ? names[algo] : "unknown";
}

}  // namespace

const char* CudnnConv1d::forward_algorithm() const { return name_of(kFwdNames, static_cast<int>(fwd_algo_)); }
const char* CudnnConv1d::backward_data_algorithm() const {
  return name_of(kBwdDataNames, static_cast<int>(bwd_data_algo_));
}
const char* CudnnConv1d::backward_weight_algorithm() const {
  return name_of(kBwdFilterNames, static_cast<int>(bwd_filter_algo_));
}

}  // namespace seqcnn::cuda
