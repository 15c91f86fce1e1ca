// Checkpoints: PyTorch names and layouts, exact round trips, and files that
// are truncated, corrupted or hostile are rejected with the reason.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/safetensors.hpp"
#include "seqcnn/checkpoint.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {
namespace {

Model small_model(uint64_t seed = 5) {
  ModelConfig mc;
  mc.embed_dim = 4;
  mc.convs = {{3, 2, 1}, {5, 3, 2}};
  return Model::initialize(mc, Vocabulary::protein(), LabelSet({"H", "E", "C"}, "-"), seed);
}

std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "seqcnn_test_checkpoint";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::vector<unsigned char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string load_error(const std::string& path) {
  try {
    load_checkpoint(path);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "";
}

TEST(Checkpoint, StateDictUsesPyTorchNamesAndLayouts) {
  const Model m = small_model();
  const auto sd = m.state_dict();
  ASSERT_EQ(sd.size(), 7u);
  EXPECT_EQ(sd[0].name, "embed.weight");
  EXPECT_EQ(sd[0].shape, (std::vector<int64_t>{22, 4}));
  EXPECT_EQ(sd[1].name, "convs.0.weight");
  EXPECT_EQ(sd[1].shape, (std::vector<int64_t>{3, 4, 2}));  // [O][I][K]
  EXPECT_EQ(sd[3].name, "convs.1.weight");
  EXPECT_EQ(sd[5].name, "dense.weight");
  EXPECT_EQ(sd[5].shape, (std::vector<int64_t>{3, 5}));
  // Element (o, i, k) of the PyTorch tensor is tap k's [i][o] in the engine layout.
  const ParamInfo& w = m.param("convs.1.weight");
  const int O = 5, I = 3, K = 3;
  for (int o = 0; o < O; ++o)
    for (int i = 0; i < I; ++i)
      for (int k = 0; k < K; ++k)
        EXPECT_EQ(sd[3].values[(o * I + i) * K + k], m.flat()[w.offset + (k * I + i) * O + o]);
}

TEST(Checkpoint, InitialisationFollowsPyTorchDefaults) {
  const Model m = small_model(11);
  const auto sd = m.state_dict();
  for (int e = 0; e < 4; ++e) EXPECT_EQ(sd[0].values[e], 0.0f) << "pad row must be zero";
  // conv0: fan_in = 4 * 2, bound 1/sqrt(8)
  for (float x : sd[1].values) EXPECT_LE(std::abs(x), 1.0f / std::sqrt(8.0f));
  for (float x : sd[2].values) EXPECT_LE(std::abs(x), 1.0f / std::sqrt(8.0f));
  double sum = 0, sq = 0;
  for (size_t i = 4; i < sd[0].values.size(); ++i) {
    sum += sd[0].values[i];
    sq += sd[0].values[i] * sd[0].values[i];
  }
  const double n = static_cast<double>(sd[0].values.size() - 4);
  EXPECT_NEAR(sum / n, 0.0, 0.5);
  EXPECT_NEAR(sq / n, 1.0, 0.5);
  // Different seeds, different weights; same seed, same weights.
  EXPECT_NE(small_model(11).state_dict()[1].values, small_model(12).state_dict()[1].values);
  EXPECT_EQ(small_model(11).state_dict()[1].values, sd[1].values);
}

TEST(Checkpoint, RoundTripIsBitwise) {
  const Model m = small_model();
  const std::string path = temp_path("roundtrip.safetensors");
  CheckpointInfo info;
  info.step = 77;
  info.epoch = 3;
  info.valid_accuracy = 0.625;
  save_checkpoint(path, m, info);
  const LoadedCheckpoint back = load_checkpoint(path);
  EXPECT_EQ(std::vector<float>(back.model.flat().begin(), back.model.flat().end()),
            std::vector<float>(m.flat().begin(), m.flat().end()));
  EXPECT_EQ(back.model.vocab(), m.vocab());
  EXPECT_EQ(back.model.labels(), m.labels());
  EXPECT_EQ(back.model.config().convs.size(), 2u);
  EXPECT_EQ(back.model.config().convs[1].dilation, 2);
  EXPECT_EQ(back.info.step, 77);
  EXPECT_EQ(back.info.epoch, 3);
  EXPECT_EQ(back.info.valid_accuracy, 0.625);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(Checkpoint, TruncatedFileIsRejected) {
  const std::string path = temp_path("truncated.safetensors");
  save_checkpoint(path, small_model(), {});
  auto bytes = file_bytes(path);
  bytes.resize(bytes.size() - 10);
  write_bytes(path, bytes);
  const std::string e = load_error(path);
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  EXPECT_NE(e.find(path), std::string::npos) << e;
  bytes.resize(5);
  write_bytes(path, bytes);
  EXPECT_NE(load_error(path).find("truncated"), std::string::npos);
}

TEST(Checkpoint, CorruptedDataFailsTheChecksum) {
  const std::string path = temp_path("corrupt.safetensors");
  save_checkpoint(path, small_model(), {});
  auto bytes = file_bytes(path);
  bytes[bytes.size() - 3] ^= 0x40;
  write_bytes(path, bytes);
  EXPECT_NE(load_error(path).find("checksum"), std::string::npos);
}

TEST(Checkpoint, HostileHeaderCannotReadOutOfBounds) {
  auto make = [](const std::string& header) {
    const uint64_t n = header.size();
    std::vector<unsigned char> b(8 + header.size() + 16, 0);
    std::memcpy(b.data(), &n, 8);
    std::memcpy(b.data() + 8, header.data(), header.size());
    return b;
  };
  const std::string src = "hostile";
  auto err = [&](const std::string& header) {
    try {
      parse_safetensors(make(header), src);
    } catch (const CheckpointError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(err(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,1000000]}})").find("outside"), std::string::npos);
  EXPECT_NE(err(R"({"a":{"dtype":"F32","shape":[1000],"data_offsets":[0,16]}})").find("need"), std::string::npos);
  EXPECT_NE(err(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})").find("negative"), std::string::npos);
  EXPECT_NE(err(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}})").find("large"), std::string::npos);
  EXPECT_NE(err(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})")
                .find("overlaps"), std::string::npos);
  EXPECT_NE(err(R"({"a":{"dtype":"Q7","shape":[4],"data_offsets":[0,16]}})").find("dtype"), std::string::npos);
  std::vector<unsigned char> huge(8, 0xff);
  EXPECT_THROW(parse_safetensors(huge, src), CheckpointError);
}

TEST(Checkpoint, AnotherArchitectureIsRejectedByName) {
  Model m = small_model();
  auto sd = m.state_dict();
  sd[1].shape = {3, 4, 3};
  sd[1].values.resize(36);
  try {
    m.load_state_dict(sd);
    FAIL() << "a misshapen tensor must be rejected";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("convs.0.weight"), std::string::npos);
  }
  sd = m.state_dict();
  sd.pop_back();
  EXPECT_THROW(m.load_state_dict(sd), CheckpointError);
}

}  // namespace
}  // namespace seqcnn
