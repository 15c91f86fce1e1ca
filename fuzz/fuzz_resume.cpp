// Resume files (a checkpoint plus AdamW moments and the run's position):
// the safetensors parser and the resume loader. A file it accepts must hold
// moments for every parameter and a config that loads and matches itself.
#include "fuzz_support.hpp"
#include "io/safetensors.hpp"
#include "seqcnn/config.hpp"
#include "train/resume_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  using namespace seqcnn;
  return fuzz::expect_only_seqcnn_errors([&] {
    const std::string source = "fuzz.resume.safetensors";
    const LoadedResume loaded = resume_from_file(parse_safetensors({data, size}, source), source);
    const auto parameters = static_cast<size_t>(loaded.checkpoint.model.parameter_count());
    fuzz::require(loaded.state.m.size() == parameters && loaded.state.v.size() == parameters,
                  "moments that do not cover the parameters");
    fuzz::require(loaded.state.epoch >= 1 && loaded.state.next_step >= 0, "a position before the start");
    const TrainConfig stored = apply_config_json(TrainConfig{}, loaded.checkpoint.info.train_config_json, source);
    check_resumable_config(stored, stored, source);
  });
}
