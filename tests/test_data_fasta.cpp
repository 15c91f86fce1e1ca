// The plain FASTA reader: multi-line sequences, no labels, precise errors.
#include <gtest/gtest.h>

#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;

std::vector<RawRecord> parse_fa(const std::string& text) { return parse_raw(text, InputFormat::Fasta, "in.fa"); }
std::string error_fa(const std::string& text) {
  return message_of<InputError>([&] { parse_fa(text); });
}

TEST(FastaReader, JoinsSequenceLinesAndHasNoLabels) {
  const auto records = parse_fa(">p1 some protein\nACDE\nFG\n>p2\r\nk\r\n\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, "p1 some protein");
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[0].symbols, (std::vector<std::string>{"A", "C", "D", "E", "F", "G"}));
  EXPECT_TRUE(records[0].labels.empty());
  EXPECT_EQ(records[1].line, 4);
  EXPECT_EQ(records[1].symbols, (std::vector<std::string>{"k"}));
}

TEST(FastaReader, HeaderWithoutSequenceIsAnEmptyRecord) {
  expect_mentions(error_fa(">a\n>b\nAC\n"), {"in.fa:1:", "record 'a'", "empty record"});
  expect_mentions(error_fa(">a\nAC\n>b\n"), {"in.fa:3:", "record 'b'", "empty record"});
}

TEST(FastaReader, MissingHeaderIsReported) {
  expect_mentions(error_fa("ACDE\n"), {"in.fa:1:", "'>'"});
}

TEST(FastaReader, BlankLineInsideIsAnEmptySequenceLine) {
  expect_mentions(error_fa(">a\nAC\n\nDE\n"), {"in.fa:3:", "record 'a'", "empty sequence line"});
}

TEST(FastaReader, BadResidueNamesItsPositionInTheRecord) {
  // The 6th residue of the record sits in column 2 of its second line.
  expect_mentions(error_fa(">a\nACDE\nF-G\n"), {"in.fa:3:", "record 'a'", "position 6", "'-'", "column 2"});
}

TEST(FastaReader, BinaryDataIsRejected) {
  expect_mentions(error_fa(std::string(">a\nAC\0D\n", 8)), {"in.fa:2:", "record 'a'", "column 3", "byte 0x00"});
}

TEST(FastaReader, EmptyFileHasNoRecords) { expect_mentions(error_fa("\n\n"), {"in.fa", "no records"}); }

}  // namespace
}  // namespace seqcnn
