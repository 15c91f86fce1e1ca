// The 3-line reader: what it accepts, and that every rejection names the
// file, line, record and position.
#include <gtest/gtest.h>

#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;

std::vector<RawRecord> parse3(const std::string& text) { return parse_raw(text, InputFormat::ThreeLine, "x.ss3"); }
std::string error3(const std::string& text) {
  return message_of<InputError>([&] { parse3(text); });
}

TEST(ThreeLineReader, ReadsIdsResiduesAndLabelsWithTheirLines) {
  const auto records = parse3(">first\nACDx\nHEC-\n>second chain B\nK\nC\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, "first");
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[0].labels_line, 3);
  EXPECT_EQ(records[0].symbols, (std::vector<std::string>{"A", "C", "D", "x"}));
  EXPECT_EQ(records[0].labels, (std::vector<std::string>{"H", "E", "C", "-"}));
  EXPECT_EQ(records[1].id, "second chain B");
  EXPECT_EQ(records[1].line, 4);
  EXPECT_EQ(records[1].symbols, (std::vector<std::string>{"K"}));
}

TEST(ThreeLineReader, AcceptsCrlfAndTrailingBlankLines) {
  const auto lf = parse3(">a\nAC\nHE\n>b\nG\nC\n");
  const auto crlf = parse3(">a\r\nAC\r\nHE\r\n>b\r\nG\r\nC\r\n\r\n\n  \n");
  const auto no_final_newline = parse3(">a\nAC\nHE\n>b\nG\nC");
  ASSERT_EQ(crlf.size(), 2u);
  ASSERT_EQ(no_final_newline.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(crlf[i].symbols, lf[i].symbols);
    EXPECT_EQ(crlf[i].labels, lf[i].labels);
    EXPECT_EQ(no_final_newline[i].labels, lf[i].labels);
  }
}

TEST(ThreeLineReader, LengthMismatchNamesLineRecordAndFirstUnmatchedPosition) {
  const std::string m = error3(">a\nAC\nHE\n>b\nACDE\nHEC\n");
  expect_mentions(m, {"x.ss3:6:", "record 'b'", "position 4", "4 residues", "3 symbols"});
  const std::string longer = error3(">a\nAC\nHEE\n");
  expect_mentions(longer, {"x.ss3:3:", "record 'a'", "position 3"});
}

TEST(ThreeLineReader, NonLetterResidueNamesItsPosition) {
  expect_mentions(error3(">a\nAC\nHE\n>b\nAC1D\nHECC\n"), {"x.ss3:5:", "record 'b'", "position 3", "'1'", "residue letter"});
  expect_mentions(error3(">a\nAC*\nHEC\n"), {"x.ss3:2:", "record 'a'", "position 3", "'*'"});
  // Trailing spaces are not tolerated inside the file.
  expect_mentions(error3(">a\nAC \nHEC\n"), {"x.ss3:2:", "position 3", "a space"});
}

TEST(ThreeLineReader, WhitespaceInsideLabelsIsRejected) {
  expect_mentions(error3(">a\nACD\nH C\n"), {"x.ss3:3:", "record 'a'", "position 2", "label symbol"});
}

TEST(ThreeLineReader, TruncatedRecordsAreReported) {
  // File ends after the header.
  expect_mentions(error3(">a\nAC\nHE\n>b\n"), {"x.ss3:4:", "record 'b'", "truncated", "sequence"});
  // File ends after the sequence.
  expect_mentions(error3(">a\nAC\nHE\n>b\nAC\n"), {"x.ss3:5:", "record 'b'", "truncated", "labels"});
  // A header where the labels should be.
  expect_mentions(error3(">a\nAC\n>b\nAC\nHE\n"), {"x.ss3:3:", "record 'a'", "truncated", "found a header"});
}

TEST(ThreeLineReader, MissingHeaderIsReported) {
  expect_mentions(error3("AC\nHE\n"), {"x.ss3:1:", "expected a header line starting with '>'"});
  expect_mentions(error3(">a\nAC\nHE\nGG\nCC\n"), {"x.ss3:4:", "'>'"});
  expect_mentions(error3("\xEF\xBB\xBF>a\nAC\nHE\n"), {"x.ss3:1:", "byte-order mark"});
}

TEST(ThreeLineReader, EmptyLinesAndIdsAreRejected) {
  expect_mentions(error3(">a\n\nHE\n"), {"x.ss3:2:", "record 'a'", "empty sequence line"});
  expect_mentions(error3(">a\nAC\n\n>b\nA\nH\n"), {"x.ss3:3:", "record 'a'", "empty labels line"});
  expect_mentions(error3(">a\nAC\nHE\n\n>b\nA\nH\n"), {"x.ss3:4:", "'>'"});  // a blank line between records
  expect_mentions(error3(">  \nAC\nHE\n"), {"x.ss3:1:", "empty record id"});
}

TEST(ThreeLineReader, BinaryDataIsRejectedWithLineRecordAndColumn) {
  std::string with_nul = ">a\nAC\nHE\n>b\nAC\nH?\n";
  with_nul[with_nul.size() - 2] = '\0';
  expect_mentions(error3(with_nul), {"x.ss3:6:", "record 'b'", "column 2", "byte 0x00", "binary"});
  expect_mentions(error3(">a\nA\xFF\nHE\n"), {"x.ss3:2:", "record 'a'", "column 2", "byte 0xFF", "UTF-8"});
  expect_mentions(error3(">a\nA\rC\nHE\n"), {"x.ss3:2:", "column 2", "byte 0x0D"});
}

TEST(ThreeLineReader, EmptyFileHasNoRecords) {
  expect_mentions(error3(""), {"x.ss3", "no records"});
  expect_mentions(error3("\n\r\n  \n"), {"x.ss3", "no records"});
}

}  // namespace
}  // namespace seqcnn
