// Configuration: presets, JSON overrides, and errors that name the key.
#include <gtest/gtest.h>

#include "seqcnn/config.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {
namespace {

std::string error_of(const std::string& json) {
  try {
    apply_config_json(preset_config("seed"), json, "run.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, SeedPresetIsTheReferenceRecipe) {
  const TrainConfig c = preset_config("seed");
  EXPECT_EQ(c.model.embed_dim, 32);
  ASSERT_EQ(c.model.convs.size(), 1u);
  EXPECT_EQ(c.model.convs[0].channels, 64);
  EXPECT_EQ(c.model.convs[0].kernel, 3);
  EXPECT_EQ(c.optim.lr, 1e-3);
  EXPECT_EQ(c.optim.weight_decay, 0.0);
  EXPECT_EQ(c.optim.clip_norm, 0.0);
  EXPECT_EQ(c.loss.label_smoothing, 0.0);
  EXPECT_EQ(c.batch.batch_sequences, 32);
  EXPECT_EQ(c.run.epochs, 20);
  EXPECT_NO_THROW(validate_config(c));
  EXPECT_NO_THROW(validate_config(preset_config("default")));
  EXPECT_THROW(preset_config("huge"), ConfigError);
}

TEST(Config, HaloIsTheLargestRightReach) {
  ModelConfig m;
  m.convs = {{8, 3, 1}, {8, 2, 3}, {8, 4, 1}};
  // K=3,d=1: reach 1; K=2,d=3: total 3, left 1, right 2; K=4: total 3, left 1, right 2.
  EXPECT_EQ(m.halo_rows(), 2);
  m.convs = {{8, 1, 1}};
  EXPECT_EQ(m.halo_rows(), 0);
}

TEST(Config, JsonOverridesSingleFields) {
  const TrainConfig c = apply_config_json(
      preset_config("seed"),
      R"({"model": {"convs": [{"channels": 17, "kernel": 4, "dilation": 2}]}, "optim": {"lr": 0.01}, "run": {"epochs": 3}})",
      "x.json");
  EXPECT_EQ(c.model.convs[0].channels, 17);
  EXPECT_EQ(c.model.convs[0].dilation, 2);
  EXPECT_EQ(c.optim.lr, 0.01);
  EXPECT_EQ(c.run.epochs, 3);
  EXPECT_EQ(c.model.embed_dim, 32);  // untouched
}

TEST(Config, RoundTripsThroughJson) {
  TrainConfig c = preset_config("default");
  c.loss.class_weights = {1.0, 2.5, 0.5};
  c.loss.reduction = Reduction::SequenceMean;
  c.run.seed = 123456789012345ull;
  const TrainConfig back = apply_config_json(preset_config("seed"), config_to_json(c), "roundtrip");
  EXPECT_EQ(config_to_json(back), config_to_json(c));
}

TEST(Config, ValidPaddingIsRejectedAtConfigurationTime) {
  const std::string e = error_of(R"({"model": {"convs": [{"channels": 8, "kernel": 3, "padding": "valid"}]}})");
  EXPECT_NE(e.find("run.json"), std::string::npos) << e;
  EXPECT_NE(e.find("model.convs[0].padding"), std::string::npos) << e;
  EXPECT_NE(e.find("same"), std::string::npos) << e;
}

TEST(Config, ErrorsNameTheKeyAndWhatWasExpected) {
  EXPECT_NE(error_of(R"({"optim": {"learning_rate": 1}})").find("'optim.learning_rate': unknown key"), std::string::npos);
  EXPECT_NE(error_of(R"({"run": {"epochs": "ten"}})").find("'run.epochs': expected an integer"), std::string::npos);
  EXPECT_NE(error_of(R"({"model": {"convs": [{"kernel": 0}]}})").find("model.convs[0].kernel"), std::string::npos);
  EXPECT_NE(error_of(R"({"loss": {"reduction": "mean"}})").find("'token_mean', 'sum', 'sequence_mean'"), std::string::npos);
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"batch": {"sequences": 8, "rows": 4096}})").find("exactly one"), std::string::npos);
}

TEST(Config, NegativeClassWeightsAreAConfigurationError) {
  const std::string e = error_of(R"({"loss": {"class_weights": [1.0, -0.5, 2.0]}})");
  EXPECT_NE(e.find("loss.class_weights[1]"), std::string::npos) << e;
  EXPECT_NE(e.find(">= 0"), std::string::npos) << e;
}

}  // namespace
}  // namespace seqcnn
