// ModelShape: the dimensions and offsets the op loops walk.
#include "train/model_shape.hpp"

#include <algorithm>

namespace seqcnn {

ModelShape model_shape(const Model& model) {
  ModelShape s;
  s.vocab = model.vocab().size();
  s.embed_dim = model.config().embed_dim;
  s.classes = model.classes();
  s.halo = model.halo_rows();
  s.pad_id = model.vocab().pad_id();
  s.embedding_offset = model.param("embed.weight").offset;
  int in = s.embed_dim;
  for (size_t l = 0; l < model.config().convs.size(); ++l) {
    const auto& c = model.config().convs[l];
    ConvLayerShape cl;
    cl.in_channels = in;
    cl.out_channels = c.channels;
    cl.kernel = c.kernel;
    cl.dilation = c.dilation;
    cl.weight_offset = model.param("convs." + std::to_string(l) + ".weight").offset;
    cl.bias_offset = model.param("convs." + std::to_string(l) + ".bias").offset;
    s.convs.push_back(cl);
    in = c.channels;
  }
  s.dense_in = in;
  s.dense_weight_offset = model.param("dense.weight").offset;
  s.dense_bias_offset = model.param("dense.bias").offset;
  s.parameter_count = model.parameter_count();
  s.weights_end = model.weights_end();
  s.embedding_end = model.embedding_end();
  s.dropout = static_cast<float>(model.config().dropout);
  return s;
}

int ModelShape::widest_channels() const {
  int w = std::max(embed_dim, classes);
  for (const auto& c : convs) w = std::max(w, c.out_channels);
  return w;
}

}  // namespace seqcnn
