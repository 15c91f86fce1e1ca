// Checkpoint faults, each rejected with a message that says which: a file
// cut short anywhere, a flipped byte anywhere in the tensor data, a header
// that claims sizes the file cannot hold, a checkpoint of another model;
// and writes that fail leave the previous file whole and no temporary
// file behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/atomic_file.hpp"
#include "io/safetensors.hpp"
#include "seqcnn/checkpoint.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;
using testing::ScratchDir;
using Bytes = std::vector<unsigned char>;

Model protein_model(uint64_t seed = 5) {
  ModelConfig mc;
  mc.embed_dim = 4;
  mc.convs = {{3, 2, 1}, {5, 3, 2}};
  return Model::initialize(mc, Vocabulary::protein(), LabelSet({"H", "E", "C"}, "-"), seed);
}

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string load_error(const Bytes& bytes, const std::string& source = "ckpt") {
  return message_of<CheckpointError>([&] { load_checkpoint_from_bytes(bytes, source); });
}

// Bytes of a valid checkpoint of `model`, and where its tensor data starts.
Bytes checkpoint_bytes(const ScratchDir& dir, const Model& model, size_t* data_begin = nullptr) {
  const std::string path = dir.file("model.safetensors");
  save_checkpoint(path, model, {});
  Bytes b = read_bytes(path);
  uint64_t header = 0;
  std::memcpy(&header, b.data(), 8);
  if (data_begin != nullptr) *data_begin = 8 + header;
  return b;
}

// The same checkpoint with its "seqcnn" metadata rewritten by `edit`
// (tensor data untouched, so the checksum still holds).
Bytes with_metadata(const ScratchDir& dir, const Bytes& bytes, const std::function<void(nlohmann::json&)>& edit) {
  StFile file = parse_safetensors(bytes, "original");
  nlohmann::json meta = nlohmann::json::parse(file.metadata.at("seqcnn"));
  edit(meta);
  file.metadata["seqcnn"] = meta.dump();
  const std::string path = dir.file("edited.safetensors");
  write_safetensors(path, file);
  return read_bytes(path);
}

// A safetensors file from a raw header and `data_bytes` zero bytes of data.
Bytes raw_file(const std::string& header, size_t data_bytes) {
  const uint64_t n = header.size();
  Bytes b(8 + header.size() + data_bytes, 0);
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  return b;
}

std::vector<std::string> directory_listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(CheckpointFaults, EveryTruncationIsRejectedAsTruncated) {
  ScratchDir dir;
  const Bytes whole = checkpoint_bytes(dir, protein_model());
  ASSERT_NO_THROW(load_checkpoint_from_bytes(whole, "whole"));
  for (size_t keep = 0; keep < whole.size(); ++keep) {
    const Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(keep));
    const std::string e = load_error(cut, "cut.safetensors");
    ASSERT_NE(e.find("truncated"), std::string::npos) << "cut to " << keep << " of " << whole.size() << " bytes: " << e;
    ASSERT_EQ(e.rfind("cut.safetensors", 0), 0u) << e;
  }
}

TEST(CheckpointFaults, EveryFlippedDataByteFailsTheChecksum) {
  ScratchDir dir;
  size_t data_begin = 0;
  const Bytes whole = checkpoint_bytes(dir, protein_model(), &data_begin);
  ASSERT_LT(data_begin, whole.size());
  for (size_t at = data_begin; at < whole.size(); ++at) {
    for (int bit : {0x01, 0x80}) {
      Bytes flipped = whole;
      flipped[at] = static_cast<unsigned char>(flipped[at] ^ bit);
      const std::string e = load_error(flipped);
      ASSERT_NE(e.find("checksum mismatch"), std::string::npos) << "byte " << at << ": " << e;
    }
  }
  // The file on disk names itself in the same error.
  const std::string path = dir.file("flipped.safetensors");
  Bytes flipped = whole;
  flipped.back() ^= 0x10;
  write_bytes(path, flipped);
  expect_mentions(message_of<CheckpointError>([&] { load_checkpoint(path); }), {path, "corrupted", "checksum"});
}

TEST(CheckpointFaults, FlippedHeaderBytesNeverLoadSilentlyWrong) {
  // A flip in the header may still be a valid file (a digit in the step,
  // a symbol's letter case); what loads must then describe the same tensors.
  ScratchDir dir;
  size_t data_begin = 0;
  const Model model = protein_model();
  const Bytes whole = checkpoint_bytes(dir, model, &data_begin);
  int rejected = 0;
  for (size_t at = 0; at < data_begin; ++at) {
    Bytes flipped = whole;
    flipped[at] ^= 0x04;
    try {
      const LoadedCheckpoint loaded = load_checkpoint_from_bytes(flipped, "flipped");
      ASSERT_EQ(loaded.model.parameter_count(), model.parameter_count()) << "byte " << at;
    } catch (const CheckpointError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, static_cast<int>(data_begin) / 2);
}

TEST(CheckpointFaults, HeaderClaimingHugeSizesIsRejectedBeforeAnyAllocation) {
  // The header length field.
  Bytes b = raw_file("{}", 0);
  const uint64_t huge = uint64_t{1} << 62;
  std::memcpy(b.data(), &huge, 8);
  expect_mentions(load_error(b), {"header length", "exceeds the 100 MiB limit"});
  const uint64_t more = 4096;
  std::memcpy(b.data(), &more, 8);
  expect_mentions(load_error(b), {"truncated", "header claims 4096 bytes"});
  // Tensor shapes and offsets.
  expect_mentions(load_error(raw_file(R"({"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,16]}})", 16)),
                  {"tensor 'a'", "impossibly large"});
  expect_mentions(load_error(raw_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,18446744073709551615]}})", 16)),
                  {"tensor 'a'", "outside the 16-byte data section"});
  expect_mentions(load_error(raw_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[64,80]}})", 16)),
                  {"tensor 'a'", "outside"});
  expect_mentions(load_error(raw_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[12,4]}})", 16)), {"outside"});
  expect_mentions(load_error(raw_file(R"({"a":{"dtype":"F32","shape":[1000000],"data_offsets":[0,16]}})", 16)),
                  {"tensor 'a' has 16 bytes", "need 4000000"});
  expect_mentions(load_error(raw_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 24)),
                  {"8 trailing bytes"});
}

TEST(CheckpointFaults, MetadataDescribingAnotherSizeIsRejectedByName) {
  ScratchDir dir;
  const Bytes whole = checkpoint_bytes(dir, protein_model());
  // A model far larger than the tensors stored: refused from the metadata
  // alone, before a buffer of that size exists.
  const Bytes huge_embed = with_metadata(dir, whole, [](nlohmann::json& m) { m["model"]["embed_dim"] = 2147483647; });
  expect_mentions(load_error(huge_embed), {"architecture mismatch", "embedding 2147483647", "the file stores"});
  const Bytes overflow = with_metadata(dir, whole, [](nlohmann::json& m) {
    m["model"]["convs"][0]["channels"] = 2147483647;
    m["model"]["convs"][1]["channels"] = 2147483647;
  });
  expect_mentions(load_error(overflow), {"architecture mismatch", "the file stores"});
  const Bytes negative = with_metadata(dir, whole, [](nlohmann::json& m) { m["model"]["convs"][0]["kernel"] = -3; });
  expect_mentions(load_error(negative), {"'kernel'", "outside"});
  const Bytes reach = with_metadata(dir, whole, [](nlohmann::json& m) { m["model"]["convs"][1]["dilation"] = 1 << 30; });
  expect_mentions(load_error(reach), {"reaching beyond"});
  const Bytes fewer_labels = with_metadata(dir, whole, [](nlohmann::json& m) { m["labels"]["symbols"] = {"H", "E"}; });
  expect_mentions(load_error(fewer_labels), {"architecture mismatch", "2 classes"});
  const Bytes version = with_metadata(dir, whole, [](nlohmann::json& m) { m["version"] = 99; });
  expect_mentions(load_error(version), {"version 99"});
  const Bytes float_step = with_metadata(dir, whole, [](nlohmann::json& m) { m["step"] = 1e300; });
  expect_mentions(load_error(float_step), {"'step'", "not an integer"});
}

TEST(CheckpointFaults, AnotherModelIsRejectedSayingWhichPartDiffers) {
  const Model stored = protein_model();
  auto mismatch = [&](const Model& expected) {
    return message_of<CheckpointError>([&] { check_same_model(stored, expected, "old.safetensors"); });
  };
  EXPECT_NO_THROW(check_same_model(stored, protein_model(99), "same.safetensors")) << "weights may differ, the model may not";

  ModelConfig wider = stored.config();
  wider.convs[1].channels = 8;
  const std::string arch = mismatch(Model::initialize(wider, stored.vocab(), stored.labels(), 1));
  expect_mentions(arch, {"old.safetensors", "architecture differs", "5ch k3 d2", "8ch k3 d2"});
  EXPECT_EQ(arch.find("vocabulary"), std::string::npos) << arch;
  EXPECT_EQ(arch.find("label set"), std::string::npos) << arch;

  const Vocabulary tokens = Vocabulary::from_tokens({"the", "cat", "sat"}, 1);
  const std::string vocab = mismatch(Model::initialize(stored.config(), tokens, stored.labels(), 1));
  expect_mentions(vocab, {"vocabulary differs", "protein alphabet of 22 symbols", "token vocabulary of 5",
                          "first difference at id 1"});
  EXPECT_EQ(vocab.find("architecture"), std::string::npos) << vocab;

  const std::string labels = mismatch(Model::initialize(stored.config(), stored.vocab(), LabelSet({"H", "E", "X"}, "-"), 1));
  expect_mentions(labels, {"label set differs", "[H, E, C]", "[H, E, X]"});
  const std::string order = mismatch(Model::initialize(stored.config(), stored.vocab(), LabelSet({"C", "E", "H"}, "-"), 1));
  expect_mentions(order, {"label set differs", "[C, E, H]"});
  const std::string no_label = mismatch(Model::initialize(stored.config(), stored.vocab(), LabelSet({"H", "E", "C"}, "."), 1));
  expect_mentions(no_label, {"label set differs", "no-label '.'"});

  // Several differences are all listed.
  const std::string all = mismatch(Model::initialize(wider, tokens, LabelSet({"A", "B"}, "-"), 1));
  expect_mentions(all, {"architecture differs", "vocabulary differs", "label set differs"});
}

TEST(CheckpointFaults, AWriterThatFailsLeavesTheOldFileAndNoTemporary) {
  ScratchDir dir;
  const std::string path = dir.file("last.safetensors");
  save_checkpoint(path, protein_model(1), {});
  const Bytes before = read_bytes(path);
  EXPECT_THROW(write_file_atomically(path,
                                     [](std::ostream& out) {
                                       out << "half a file";
                                       throw Error("simulated failure in the middle of a write");
                                     }),
               Error);
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(directory_listing(dir.path()), std::vector<std::string>{"last.safetensors"});
  EXPECT_NO_THROW(load_checkpoint(path));
}

TEST(CheckpointFaults, ADiskThatFillsUpLeavesTheOldCheckpointAndNoTemporary) {
  // RLIMIT_FSIZE makes writes past 512 bytes fail as a full disk would
  // (EFBIG; SIGXFSZ ignored); the checkpoint is a few kilobytes.
  ScratchDir dir;
  const std::string path = dir.file("last.safetensors");
  save_checkpoint(path, protein_model(1), {});
  const Bytes before = read_bytes(path);
  ASSERT_GT(before.size(), 1024u);
  struct rlimit old_limit {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto* old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 512;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    save_checkpoint(path, protein_model(2), {});
  } catch (const Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  expect_mentions(message, {"last.safetensors", "failed"});
  EXPECT_EQ(read_bytes(path), before) << "the old checkpoint must be untouched";
  EXPECT_EQ(directory_listing(dir.path()), std::vector<std::string>{"last.safetensors"});
  const LoadedCheckpoint back = load_checkpoint(path);
  const Model first = protein_model(1);
  EXPECT_TRUE(std::equal(back.model.flat().begin(), back.model.flat().end(), first.flat().begin()));
}

TEST(CheckpointFaults, ATargetThatCannotBeReplacedLeavesNoTemporary) {
  ScratchDir dir;
  const std::string path = dir.file("occupied");
  std::filesystem::create_directories(path + "/inside");
  const std::string message = message_of<Error>([&] { save_checkpoint(path, protein_model(), {}); });
  expect_mentions(message, {"cannot rename", path});
  EXPECT_EQ(directory_listing(dir.path()), std::vector<std::string>{"occupied"});
  EXPECT_TRUE(std::filesystem::is_directory(path + "/inside"));
}

}  // namespace
}  // namespace seqcnn
