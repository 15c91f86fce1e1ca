// From raw records to ids, files on disk, the 3-line writer, and the
// bundled secondary-structure data.
#include <gtest/gtest.h>

#include <filesystem>

#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;
using testing::ScratchDir;

const LabelSet kHec({"H", "E", "C"}, "-");

TEST(ToDataset, MapsResiduesAndLabelsToIds) {
  const auto raw = parse_raw(">a\nAcB\nH-C\n", InputFormat::ThreeLine, "s.txt");
  const Vocabulary vocab = Vocabulary::protein();
  const Dataset data = to_dataset(raw, vocab, kHec, "s.txt");
  ASSERT_EQ(data.records.size(), 1u);
  EXPECT_EQ(data.source, "s.txt");
  EXPECT_EQ(data.records[0].id, "a");
  EXPECT_EQ(data.records[0].tokens, (std::vector<int32_t>{vocab.residue_id('A'), vocab.residue_id('C'), vocab.unknown_id()}));
  EXPECT_EQ(data.records[0].labels, (std::vector<int32_t>{0, kIgnoreLabel, 2}));
  EXPECT_EQ(data.positions(), 3);
  EXPECT_EQ(data.counted_labels(), 2);
}

TEST(ToDataset, UnknownLabelNamesTheLabelsLineRecordAndPosition) {
  const auto raw = parse_raw(">a\nACD\nHEC\n>b\nACDE\nHEGC\n", InputFormat::ThreeLine, "s.txt");
  const std::string m = message_of<InputError>([&] { to_dataset(raw, Vocabulary::protein(), kHec, "s.txt"); });
  expect_mentions(m, {"s.txt:6:", "record 'b'", "position 3", "unknown label symbol 'G'", "H, E, C"});
}

TEST(ToDataset, UnknownConllTagNamesTheTokenLine) {
  const auto raw = parse_raw("a O\n\nb O\nc B-XYZ\n", InputFormat::Conll, "ner.txt");
  const LabelSet tags = LabelSet::from_seen({}, "B-PER,I-PER,O", "-");
  const Vocabulary vocab = Vocabulary::from_tokens({"a", "b"}, 1);
  const std::string m = message_of<InputError>([&] { to_dataset(raw, vocab, tags, "ner.txt"); });
  expect_mentions(m, {"ner.txt:4:", "record 'sentence 2'", "position 2", "'B-XYZ'"});
}

TEST(ToDataset, TokenModeMapsUnseenTokensToUnknown) {
  const auto raw = parse_raw("a O\nb B-PER\n\nc O\n", InputFormat::Conll, "ner.txt");
  const Vocabulary vocab = Vocabulary::from_tokens({"a", "b"}, 1);
  const Dataset data = to_dataset(raw, vocab, LabelSet::from_seen({"O", "B-PER"}, "", "-"), "ner.txt");
  EXPECT_EQ(data.records[0].tokens, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(data.records[1].tokens, (std::vector<int32_t>{vocab.unknown_id()}));
  EXPECT_EQ(data.records[0].labels, (std::vector<int32_t>{1, 0}));  // sorted: B-PER, O
}

TEST(ToDataset, FastaRecordsAreUnlabelled) {
  const auto raw = parse_raw(">a\nAC\nD\n", InputFormat::Fasta, "q.fa");
  const Dataset data = to_dataset(raw, Vocabulary::protein(), kHec, "q.fa");
  EXPECT_EQ(data.records[0].length(), 3);
  EXPECT_TRUE(data.records[0].labels.empty());
  EXPECT_EQ(data.counted_labels(), 0);
}

TEST(ReadRaw, FileThatCannotBeOpenedIsNamed) {
  ScratchDir dir;
  const std::string missing = dir.file("missing.txt");
  expect_mentions(message_of<InputError>([&] { read_raw(missing, InputFormat::ThreeLine); }), {missing, "cannot open"});
  expect_mentions(message_of<InputError>([&] { read_raw(dir.path().string(), InputFormat::Fasta); }), {"directory"});
}

TEST(ReadRaw, ErrorsInFilesNameTheFile) {
  ScratchDir dir;
  const std::string path = dir.write("bad.ss3", ">a\nAC\nHEE\n");
  expect_mentions(message_of<InputError>([&] { read_dataset(path, InputFormat::ThreeLine, Vocabulary::protein(), kHec); }),
                  {path + ":3:", "record 'a'", "position 3"});
  const std::string empty = dir.write("empty.ss3", "");
  expect_mentions(message_of<InputError>([&] { read_raw(empty, InputFormat::ThreeLine); }), {empty, "no records"});
}

TEST(WriteThreeLine, RoundTripsThroughTheReader) {
  ScratchDir dir;
  const std::string path = dir.file("out.ss3");
  write_three_line(path, {"a", "b c"}, {"ACD", "K"}, {"HEC", "-"});
  const auto raw = read_raw(path, InputFormat::ThreeLine);
  ASSERT_EQ(raw.size(), 2u);
  EXPECT_EQ(raw[1].id, "b c");
  EXPECT_EQ(raw[0].labels, (std::vector<std::string>{"H", "E", "C"}));
  // Overwrites in place and leaves no temporary file behind.
  write_three_line(path, {"z"}, {"W"}, {"E"});
  EXPECT_EQ(read_raw(path, InputFormat::ThreeLine).size(), 1u);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(WriteThreeLine, FailureThrowsAndRemovesTheTemporaryFile) {
  ScratchDir dir;
  // The target is a non-empty directory, so the rename fails after the write.
  const std::string target = dir.file("taken");
  std::filesystem::create_directories(target + "/inside");
  EXPECT_THROW(write_three_line(target, {"a"}, {"AC"}, {"HE"}), Error);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  // A parent "directory" that is a file.
  const std::string file = dir.write("plain", "x");
  EXPECT_THROW(write_three_line(file + "/x", {"a"}, {"AC"}, {"HE"}), Error);
  EXPECT_THROW(write_three_line(dir.file("x"), {"a"}, {"AC"}, {"H"}), InputError);
  EXPECT_THROW(write_three_line(dir.file("x"), {"a", "b"}, {"AC"}, {"HE"}), InputError);
  EXPECT_THROW(write_three_line(dir.file("x"), {"a\nb"}, {"AC"}, {"HE"}), InputError);
}

TEST(BundledData, TrainingSplitReadsCompletely) {
  const std::string path = std::string(SEQCNN_SOURCE_DIR) + "/data/ss/train.ss3.txt";
  const auto raw = read_raw(path, InputFormat::ThreeLine);
  std::vector<std::string> seen;
  for (const auto& r : raw) seen.insert(seen.end(), r.labels.begin(), r.labels.end());
  const LabelSet labels = LabelSet::from_seen(seen, "", "-");
  EXPECT_EQ(labels.symbols(), (std::vector<std::string>{"C", "E", "H"}));
  const Dataset data = to_dataset(raw, Vocabulary::protein(), labels, path);
  // The counts stated in data/ss/README.md.
  EXPECT_EQ(data.records.size(), 387u);
  EXPECT_EQ(data.positions(), 91139);
  int64_t longest = 0;
  for (const auto& r : data.records) longest = std::max(longest, r.length());
  EXPECT_EQ(longest, 597);
}

}  // namespace
}  // namespace seqcnn
