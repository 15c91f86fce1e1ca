// Config files: apply_config_json over the seed preset. A config it accepts
// must pass validation and survive config_to_json -> apply_config_json
// unchanged (that is how checkpoints and resume files store it).
#include "fuzz_support.hpp"
#include "seqcnn/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  using namespace seqcnn;
  TrainConfig accepted;
  bool ok = false;
  fuzz::expect_only_seqcnn_errors([&] {
    accepted = apply_config_json(preset_config("seed"), fuzz::as_text(data, size), "fuzz.json");
    ok = true;
  });
  if (!ok) return 0;
  // Outside the catch: an accepted config that no longer loads is a finding.
  validate_config(accepted);
  const std::string stored = config_to_json(accepted);
  const TrainConfig back = apply_config_json(TrainConfig{}, stored, "round trip");
  fuzz::require(config_to_json(back) == stored, "config_to_json does not round-trip through apply_config_json");
  return 0;
}
