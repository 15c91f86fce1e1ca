// Checkpoints (safetensors with seqcnn metadata): load_checkpoint_from_bytes.
// A checkpoint it accepts must describe a model whose tensors round-trip
// and that matches itself.
#include <algorithm>
#include <cstring>

#include "fuzz_support.hpp"
#include "seqcnn/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  using namespace seqcnn;
  return fuzz::expect_only_seqcnn_errors([&] {
    const LoadedCheckpoint loaded = load_checkpoint_from_bytes({data, size}, "fuzz.safetensors");
    const Model& m = loaded.model;
    fuzz::require(m.parameter_count() > 0, "an accepted model without parameters");
    fuzz::require(m.vocab().size() >= 2 && m.classes() >= 1, "an accepted model without symbols or classes");
    Model copy = Model::initialize(m.config(), m.vocab(), m.labels(), 1);
    copy.load_state_dict(m.state_dict());
    fuzz::require(std::equal(copy.flat().begin(), copy.flat().end(), m.flat().begin(), m.flat().end(),
                             [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }),
                  "state_dict does not round-trip");
    check_same_model(m, copy, "fuzz.safetensors");
  });
}
