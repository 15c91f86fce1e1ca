// The CoNLL column reader: sentences, -DOCSTART- lines, and errors.
#include <gtest/gtest.h>

#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;

std::vector<RawRecord> parse_conll(const std::string& text) { return parse_raw(text, InputFormat::Conll, "ner.txt"); }
std::string error_conll(const std::string& text) {
  return message_of<InputError>([&] { parse_conll(text); });
}

TEST(ConllReader, SkipsDocstartAndSplitsSentencesAtBlankLines) {
  const std::string text =
      "-DOCSTART- -X- -X- O\n"  // 1
      "\n"                      // 2
      "EU NNP B-NP B-ORG\n"     // 3
      "rejects VBZ B-VP O\n"    // 4
      "\n"                      // 5
      "\n"                      // 6
      "Peter NNP B-NP B-PER\n"  // 7
      "-DOCSTART- -X- -X- O\n"  // 8: a document boundary also ends the sentence
      "Blackburn\tNNP\tI-NP\tI-PER\n";  // 9
  const auto records = parse_conll(text);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].id, "sentence 1");
  EXPECT_EQ(records[0].line, 3);
  EXPECT_EQ(records[0].labels_line, 0);
  EXPECT_EQ(records[0].symbols, (std::vector<std::string>{"EU", "rejects"}));
  EXPECT_EQ(records[0].labels, (std::vector<std::string>{"B-ORG", "O"}));
  EXPECT_EQ(records[1].id, "sentence 2");
  EXPECT_EQ(records[1].line, 7);
  EXPECT_EQ(records[1].symbols, (std::vector<std::string>{"Peter"}));
  EXPECT_EQ(records[2].id, "sentence 3");
  EXPECT_EQ(records[2].line, 9);
  EXPECT_EQ(records[2].labels, (std::vector<std::string>{"I-PER"}));
}

TEST(ConllReader, AcceptsCrlfTabsAndUtf8Tokens) {
  const auto records = parse_conll("Zürich\tB-LOC\r\nist O\r\n\r\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].symbols[0], "Zürich");
  EXPECT_EQ(records[0].labels[1], "O");
}

TEST(ConllReader, SingleColumnLineNamesLineSentenceAndPosition) {
  expect_mentions(error_conll("a O\n\nb O\nc\n"), {"ner.txt:4:", "record 'sentence 2'", "position 2", "two columns"});
}

TEST(ConllReader, ColumnCountMustStayTheSame) {
  expect_mentions(error_conll("a X O\nb O\n"), {"ner.txt:2:", "record 'sentence 1'", "position 2", "expected 3 columns as on line 1"});
}

TEST(ConllReader, BinaryDataIsRejected) {
  expect_mentions(error_conll("a O\nb\xC3\x28 O\n"), {"ner.txt:2:", "record 'sentence 1'", "column 2", "UTF-8"});
  expect_mentions(error_conll(std::string("a O\n\0\0\0\0\n", 9)), {"ner.txt:2:", "byte 0x00"});
}

TEST(ConllReader, FileWithoutTokensHasNoRecords) {
  expect_mentions(error_conll(""), {"ner.txt", "no records"});
  expect_mentions(error_conll("-DOCSTART- O\n\n\n"), {"ner.txt", "no records"});
}

}  // namespace
}  // namespace seqcnn
