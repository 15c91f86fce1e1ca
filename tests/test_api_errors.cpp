// The error model of the public API: a failing call throws a seqcnn::Error
// subclass whose message names what failed, and nothing else escapes
// (std::filesystem or JSON exceptions included). Uses the public headers only.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "seqcnn/seqcnn.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;
using testing::ScratchDir;

Model tiny_model() {
  ModelConfig mc;
  mc.embed_dim = 4;
  mc.convs = {{3, 3, 1}};
  return Model::initialize(mc, Vocabulary::protein(), LabelSet({"H", "E", "C"}, "-"), 3);
}

Dataset tiny_dataset() {
  Dataset d;
  d.source = "tiny";
  d.records.push_back({"a", {1, 2, 3, 4}, {0, 1, 2, 0}});
  d.records.push_back({"b", {5, 6, 7}, {2, 2, 1}});
  return d;
}

TEST(ApiErrors, TrainerThatCannotCreateItsOutputDirectoryThrowsSeqcnnError) {
  ScratchDir dir;
  const std::string blocker = dir.write("not-a-directory", "x");
  TrainConfig config = preset_config("seed");
  config.model = tiny_model().config();
  config.run.epochs = 1;
  config.run.out_dir = blocker + "/run";
  Model model = tiny_model();
  const Dataset train = tiny_dataset();
  Trainer trainer(config, model, train, nullptr);
  const std::string message = message_of<Error>([&] { trainer.run(); });
  expect_mentions(message, {"output directory", blocker + "/run"});
}

TEST(ApiErrors, CheckpointIntoAPathUnderAFileThrowsSeqcnnError) {
  ScratchDir dir;
  const std::string blocker = dir.write("file", "x");
  const Model model = tiny_model();
  const std::string message = message_of<Error>([&] { save_checkpoint(blocker + "/m.safetensors", model, {}); });
  expect_mentions(message, {blocker});
}

TEST(ApiErrors, EachFailingCallThrowsItsSubclassNamingTheCause) {
  ScratchDir dir;
  const std::string missing = dir.file("missing.txt");
  expect_mentions(message_of<InputError>([&] {
                    read_dataset(missing, InputFormat::ThreeLine, Vocabulary::protein(), LabelSet({"H", "E", "C"}, "-"));
                  }),
                  {missing});
  expect_mentions(message_of<CheckpointError>([&] { load_checkpoint(missing); }), {missing});
  expect_mentions(message_of<ConfigError>([&] { apply_config_json(preset_config("seed"), "{\"run\": {", "my.json"); }),
                  {"my.json"});
  expect_mentions(message_of<ConfigError>([&] { apply_config_json(preset_config("seed"), "{\"colour\": 1}", "my.json"); }),
                  {"my.json", "colour"});
  expect_mentions(message_of<ConfigError>([&] { preset_config("fastest"); }), {"fastest"});
  expect_mentions(message_of<Error>([&] { tiny_model().param("convs.7.weight"); }), {"convs.7.weight"});
}

}  // namespace
}  // namespace seqcnn
