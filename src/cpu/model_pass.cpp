// The model's forward and backward on the CPU: the op sequence of
// model_pass.hpp over one packed batch.
#include "cpu/model_pass.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "common/conv_shape.hpp"
#include "cpu/conv1d.hpp"
#include "cpu/dense.hpp"
#include "cpu/embedding.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn::cpu {
namespace {

// Resizing to a new length refills with zeros, so rows that were interior
// in a larger batch cannot linger as non-zero halo rows of a smaller one.
template <class T>
void zero_resize(std::vector<T>& v, int64_t size) {
  if (v.size() != static_cast<size_t>(size)) v.assign(static_cast<size_t>(size), T(0));
}

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

Conv1dShape conv_shape(const ConvLayerShape& layer, const Batch& batch) {
  Conv1dShape s;
  s.rows = batch.rows;
  s.halo = batch.halo;
  s.in_channels = layer.in_channels;
  s.out_channels = layer.out_channels;
  s.kernel = layer.kernel;
  s.dilation = layer.dilation;
  return s;
}

void check_batch(const ModelShape& shape, const Batch& batch) {
  const auto rows = static_cast<size_t>(batch.rows);
  if (batch.tokens.size() != rows || batch.labels.size() != rows || batch.row_is_real.size() != rows) {
    throw ConfigError("model pass: batch of " + std::to_string(batch.rows) +
                      " rows has tokens/labels/row_is_real of another length");
  }
  if (batch.halo < shape.halo) {
    throw ConfigError("model pass: batch halo " + std::to_string(batch.halo) + " rows, the model's convolutions need " +
                      std::to_string(shape.halo));
  }
}

template <class T>
void forward_layers(const ModelShape& shape, const T* params, const Batch& batch, const DropoutSpec& dropout_base,
                    ModelActivations<T>& acts) {
  check_batch(shape, batch);
  acts.resize(shape, batch.rows);
  const uint8_t* real = batch.row_is_real.data();
  embedding_forward(batch.tokens.data(), real, batch.rows, params + shape.embedding_offset, shape.embed_dim,
                    shape.pad_id, acts.layers[0].data());
  for (size_t l = 0; l < shape.convs.size(); ++l) {
    const ConvLayerShape& layer = shape.convs[l];
    DropoutSpec dropout = dropout_base;
    dropout.layer = static_cast<uint32_t>(l);
    conv1d_forward(conv_shape(layer, batch), acts.layers[l].data(), params + layer.weight_offset,
                   params + layer.bias_offset, real, dropout, acts.layers[l + 1].data());
  }
  dense_forward(batch.rows, shape.dense_in, shape.classes, acts.layers.back().data(),
                params + shape.dense_weight_offset, params + shape.dense_bias_offset, acts.logits.data());
}

}  // namespace

template <class T>
void ModelActivations<T>::resize(const ModelShape& shape, int64_t rows) {
  layers.resize(shape.convs.size() + 1);
  zero_resize(layers[0], rows * shape.embed_dim);
  for (size_t l = 0; l < shape.convs.size(); ++l) zero_resize(layers[l + 1], rows * shape.convs[l].out_channels);
  zero_resize(logits, rows * shape.classes);
  zero_resize(dlogits, rows * shape.classes);
  zero_resize(grad_a, rows * widest_gradient_channels(shape));
  zero_resize(grad_b, rows * widest_gradient_channels(shape));
  zero_resize(dpre, rows * widest_conv_output(shape));
}

template <class T>
void model_forward(const ModelShape& shape, const T* params, const Batch& batch, ModelActivations<T>& acts) {
  forward_layers(shape, params, batch, DropoutSpec{}, acts);
}

template <class T>
XentTotals model_forward_backward(const ModelShape& shape, const T* params, const Batch& batch, const T* row_scale,
                                  const LossParams<T>& loss, uint64_t dropout_seed, uint64_t dropout_step,
                                  ModelActivations<T>& acts, T* grads) {
  DropoutSpec dropout;
  dropout.drop_probability = shape.dropout;
  dropout.seed = dropout_seed;
  dropout.step = dropout_step;
  forward_layers(shape, params, batch, dropout, acts);

  const int64_t rows = batch.rows;
  const uint8_t* real = batch.row_is_real.data();
  const XentTotals totals = softmax_xent(rows, shape.classes, acts.logits.data(), batch.labels.data(), row_scale,
                                         loss.class_weights, loss.label_smoothing, acts.dlogits.data());

  T* dy = acts.grad_a.data();  // gradient w.r.t. the current layer's output
  T* dx = acts.grad_b.data();  // gradient w.r.t. its input
  dense_backward(rows, shape.dense_in, shape.classes, acts.layers.back().data(), params + shape.dense_weight_offset,
                 acts.dlogits.data(), dy, grads + shape.dense_weight_offset, grads + shape.dense_bias_offset);
  const T keep_scale = static_cast<T>(dropout.keep_scale());
  for (size_t l = shape.convs.size(); l-- > 0;) {
    const ConvLayerShape& layer = shape.convs[l];
    const Conv1dShape s = conv_shape(layer, batch);
    conv1d_epilogue_backward(rows, layer.out_channels, acts.layers[l + 1].data(), dy, real, keep_scale,
                             acts.dpre.data());
    conv1d_backward_weight(s, acts.layers[l].data(), acts.dpre.data(), grads + layer.weight_offset,
                           grads + layer.bias_offset);
    conv1d_backward_data(s, params + layer.weight_offset, acts.dpre.data(), dx);
    std::swap(dy, dx);
  }
  embedding_backward(batch.tokens.data(), real, rows, dy, shape.embed_dim, shape.vocab, shape.pad_id,
                     grads + shape.embedding_offset);
  return totals;
}

template struct ModelActivations<float>;
template struct ModelActivations<double>;
template void model_forward<float>(const ModelShape&, const float*, const Batch&, ModelActivations<float>&);
template void model_forward<double>(const ModelShape&, const double*, const Batch&, ModelActivations<double>&);
template XentTotals model_forward_backward<float>(const ModelShape&, const float*, const Batch&, const float*,
                                                  const LossParams<float>&, uint64_t, uint64_t,
                                                  ModelActivations<float>&, float*);
template XentTotals model_forward_backward<double>(const ModelShape&, const double*, const Batch&, const double*,
                                                   const LossParams<double>&, uint64_t, uint64_t,
                                                   ModelActivations<double>&, double*);

}  // namespace seqcnn::cpu
