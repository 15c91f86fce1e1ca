// The model's op sequence on the GPU, step for step the same as
// src/cpu/model_pass.cpp.
#include "model_pass.hpp"

#include <algorithm>
#include <utility>

#include "check.hpp"
#include "common/conv_shape.hpp"
#include "conv1d.hpp"
#include "dense.hpp"
#include "embedding.hpp"

namespace seqcnn::cuda {
namespace {

int widest_gradient_channels(const ModelShape& shape) {
  int widest = std::max(shape.embed_dim, shape.dense_in);
  for (const ConvLayerShape& c : shape.convs) widest = std::max({widest, c.in_channels, c.out_channels});
  return widest;
}

int widest_conv_output(const ModelShape& shape) {
  int widest = 0;
  for (const ConvLayerShape& c : shape.convs) widest = std::max(widest, c.out_channels);
  return widest;
}

Conv1dShape conv_shape(const ConvLayerShape& layer, int64_t rows, int halo) {
  Conv1dShape s;
  s.rows = rows;
  s.halo = halo;
  s.in_channels = layer.in_channels;
  s.out_channels = layer.out_channels;
  s.kernel = layer.kernel;
  s.dilation = layer.dilation;
  return s;
}

// Scratch for the largest op of a pass over `rows` rows (ops run one after
// another on one stream, so they share it).
std::size_t pass_workspace_bytes(const ModelShape& shape, int64_t rows, int halo) {
  std::size_t bytes = std::max(softmax_xent_workspace_bytes(rows), dense_backward_workspace_bytes(rows, shape.classes));
  bytes = std::max(bytes, embedding_backward_workspace_bytes(rows, shape.embed_dim, shape.vocab));
  for (const ConvLayerShape& layer : shape.convs)
    bytes = std::max(bytes, conv1d_backward_weight_workspace_bytes(conv_shape(layer, rows, halo)));
  return bytes;
}

template <class T>
bool grow(DeviceBuffer<T>& buffer, int64_t count, const char* what) {
  return buffer.ensure(static_cast<std::size_t>(std::max<int64_t>(count, 1)), what);
}

// The conv output rows no kernel writes: [0, halo) and [rows - halo, rows).
void clear_halo_rows(float* y, int64_t rows, int halo, int channels, cudaStream_t stream) {
  const int64_t edge = std::min<int64_t>(halo, rows);
  if (edge <= 0) return;
  const std::size_t edge_bytes = static_cast<std::size_t>(edge) * channels * sizeof(float);
  CUDA_CHECK(cudaMemsetAsync(y, 0, edge_bytes, stream));
  CUDA_CHECK(cudaMemsetAsync(y + (rows - edge) * channels, 0, edge_bytes, stream));
}

Workspace workspace_of(DeviceActivations& acts) { return Workspace{acts.workspace.data(), acts.workspace.bytes()}; }

void forward_layers(cublasHandle_t cublas, const ModelShape& shape, const float* params, const DeviceBatch& batch,
                    const DropoutSpec& dropout_base, const uint64_t* dropout_step, DeviceActivations& acts,
                    cudaStream_t stream) {
  embedding_forward(batch.tokens, batch.row_is_real, batch.rows, params + shape.embedding_offset, shape.embed_dim,
                    shape.pad_id, acts.layers[0].data(), stream);
  for (size_t l = 0; l < shape.convs.size(); ++l) {
    const ConvLayerShape& layer = shape.convs[l];
    DropoutSpec dropout = dropout_base;
    dropout.layer = static_cast<uint32_t>(l);
    float* y = acts.layers[l + 1].data();
    clear_halo_rows(y, batch.rows, batch.halo, layer.out_channels, stream);
    conv1d_forward(conv_shape(layer, batch.rows, batch.halo), acts.layers[l].data(), params + layer.weight_offset,
                   params + layer.bias_offset, batch.row_is_real, dropout, y, stream, dropout_step);
  }
  dense_forward(cublas, batch.rows, shape.dense_in, shape.classes, acts.layers.back().data(),
                params + shape.dense_weight_offset, params + shape.dense_bias_offset, acts.logits.data(), stream);
}

}  // namespace

bool DeviceActivations::fits(const ModelShape& shape, int64_t rows, int halo) const {
  return !layers.empty() && rows <= capacity_rows &&
         pass_workspace_bytes(shape, rows, halo) <= workspace.bytes();
}

bool DeviceActivations::ensure(const ModelShape& shape, int64_t rows, int halo) {
  bool moved = false;
  // `layers` is empty before the first batch, even one of 0 rows.
  if (rows > capacity_rows || layers.empty()) {
    layers.resize(shape.convs.size() + 1);
    moved |= grow(layers[0], rows * shape.embed_dim, "embedding output");
    for (size_t l = 0; l < shape.convs.size(); ++l)
      moved |= grow(layers[l + 1], rows * shape.convs[l].out_channels, "conv output");
    moved |= grow(logits, rows * shape.classes, "logits");
    moved |= grow(dlogits, rows * shape.classes, "dlogits");
    moved |= grow(grad_a, rows * widest_gradient_channels(shape), "activation gradient");
    moved |= grow(grad_b, rows * widest_gradient_channels(shape), "activation gradient");
    moved |= grow(dpre, rows * std::max(widest_conv_output(shape), 1), "conv pre-activation gradient");
    capacity_rows = rows;
  }
  moved |= grow(workspace, static_cast<int64_t>(pass_workspace_bytes(shape, rows, halo)), "op workspace");
  return moved;
}

void model_forward(cublasHandle_t cublas, const ModelShape& shape, const float* params, const DeviceBatch& batch,
                   DeviceActivations& acts, cudaStream_t stream) {
  forward_layers(cublas, shape, params, batch, DropoutSpec{}, nullptr, acts, stream);
}

void model_forward_backward(cublasHandle_t cublas, const ModelShape& shape, const float* params,
                            const DeviceBatch& batch, const DeviceLoss& loss, uint64_t dropout_seed,
                            DeviceActivations& acts, float* grads, DeviceXentTotals* totals, cudaStream_t stream) {
  DropoutSpec dropout;
  dropout.drop_probability = shape.dropout;
  dropout.seed = dropout_seed;
  forward_layers(cublas, shape, params, batch, dropout, batch.dropout_step, acts, stream);

  const int64_t rows = batch.rows;
  const Workspace workspace = workspace_of(acts);
  softmax_xent(rows, shape.classes, acts.logits.data(), batch.labels, batch.row_scale, loss.class_weights,
               loss.label_smoothing, acts.dlogits.data(), totals, workspace, stream);

  float* dy = acts.grad_a.data();  // gradient w.r.t. the current layer's output
  float* dx = acts.grad_b.data();  // gradient w.r.t. its input
  dense_backward(cublas, rows, shape.dense_in, shape.classes, acts.layers.back().data(),
                 params + shape.dense_weight_offset, acts.dlogits.data(), dy, grads + shape.dense_weight_offset,
                 grads + shape.dense_bias_offset, workspace, stream);
  const float keep_scale = dropout.keep_scale();
  for (size_t l = shape.convs.size(); l-- > 0;) {
    const ConvLayerShape& layer = shape.convs[l];
    const Conv1dShape s = conv_shape(layer, rows, batch.halo);
    conv1d_epilogue_backward(rows, layer.out_channels, acts.layers[l + 1].data(), dy, batch.row_is_real, keep_scale,
                             acts.dpre.data(), stream);
    conv1d_backward_weight(s, acts.layers[l].data(), acts.dpre.data(), grads + layer.weight_offset,
                           grads + layer.bias_offset, workspace, stream);
    conv1d_backward_data(s, params + layer.weight_offset, acts.dpre.data(), dx, stream);
    std::swap(dy, dx);
  }
  embedding_backward(batch.tokens, batch.row_is_real, rows, dy, shape.embed_dim, shape.vocab, shape.pad_id,
                     grads + shape.embedding_offset, workspace, stream);
}

}  // namespace seqcnn::cuda
