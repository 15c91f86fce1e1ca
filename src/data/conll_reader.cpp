// CoNLL columns: one token per line, the token in the first column and its
// tag in the last, separated by spaces or tabs; a blank line ends a
// sentence; "-DOCSTART-" lines mark documents and are skipped. Every line
// of a file has the same number of columns.
#include <string>
#include <vector>

#include "data/readers.hpp"
#include "data/text_scan.hpp"

namespace seqcnn::data {

namespace {

std::vector<std::string_view> split_columns(std::string_view line) {
  std::vector<std::string_view> columns;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    const size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    if (i > start) columns.push_back(line.substr(start, i - start));
  }
  return columns;
}

}  // namespace

std::vector<RawRecord> parse_conll(std::string_view text, std::string_view source) {
  LineScanner scan(text, source);
  std::vector<RawRecord> records;
  RawRecord sentence;
  int64_t sentences_seen = 0;
  size_t columns_expected = 0;
  int64_t columns_line = 0;  // the line that fixed columns_expected

  auto end_sentence = [&]() {
    if (sentence.symbols.empty()) return;
    records.push_back(std::move(sentence));
    sentence = RawRecord{};
    scan.set_record("");
  };

  std::string_view line;
  while (scan.next(line)) {
    if (is_blank_line(line)) {
      end_sentence();
      continue;
    }
    const std::vector<std::string_view> columns = split_columns(line);
    if (columns.front() == "-DOCSTART-") {  // a document boundary also ends a sentence
      end_sentence();
      continue;
    }
    if (sentence.symbols.empty()) {
      sentence.id = "sentence " + std::to_string(++sentences_seen);
      sentence.line = scan.line_number();
      scan.set_record(sentence.id);
    }
    const int64_t position = static_cast<int64_t>(sentence.symbols.size() + 1);
    if (columns.size() < 2) {
      scan.fail("expected at least two columns (token ... tag) separated by spaces or tabs, found one ('" +
                    std::string(columns.front()) + "')",
                position);
    }
    if (columns_expected == 0) {
      columns_expected = columns.size();
      columns_line = scan.line_number();
    } else if (columns.size() != columns_expected) {
      scan.fail("expected " + std::to_string(columns_expected) + " columns as on line " +
                    std::to_string(columns_line) + ", found " + std::to_string(columns.size()),
                position);
    }
    sentence.symbols.emplace_back(columns.front());
    sentence.labels.emplace_back(columns.back());
  }
  end_sentence();
  if (records.empty()) throw_input_error(TextPlace{source}, "no records (no token lines in the file)");
  return records;
}

}  // namespace seqcnn::data
