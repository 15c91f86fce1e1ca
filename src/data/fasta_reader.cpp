// Plain FASTA: a ">id" header, then one or more sequence lines, no labels.
// CRLF line ends and trailing blank lines are accepted; a blank line inside
// the file is an error, as in the 3-line format.
#include <string>

#include "data/readers.hpp"
#include "data/text_scan.hpp"

namespace seqcnn::data {

std::vector<RawRecord> parse_fasta(std::string_view text, std::string_view source) {
  LineScanner scan(text, source);
  std::vector<RawRecord> records;
  std::string_view line;
  auto finish_record = [&]() {
    if (records.empty() || !records.back().symbols.empty()) return;
    throw_input_error(TextPlace{source, records.back().line, records.back().id},
                      "empty record: the header is not followed by a sequence line");
  };
  while (scan.next(line)) {
    if (!line.empty() && line.front() == '>') {
      finish_record();
      std::string_view id = line.substr(1);
      while (!id.empty() && is_blank(id.front())) id.remove_prefix(1);
      while (!id.empty() && is_blank(id.back())) id.remove_suffix(1);
      scan.set_record("");
      if (id.empty()) scan.fail("empty record id after '>'");
      RawRecord record;
      record.id = std::string(id);
      record.line = scan.line_number();
      records.push_back(std::move(record));
      scan.set_record(records.back().id);
      continue;
    }
    if (records.empty()) scan.fail("expected a header line starting with '>'");
    if (line.empty()) scan.fail("empty sequence line");
    RawRecord& record = records.back();
    for (size_t i = 0; i < line.size(); ++i) {
      if (!is_ascii_letter(line[i])) {
        // Position within the record, which spans several lines.
        scan.fail("expected a residue letter, found " + quote_char(line[i]) + " (column " + std::to_string(i + 1) + ")",
                  static_cast<int64_t>(record.symbols.size() + 1));
      }
      record.symbols.emplace_back(1, line[i]);
    }
  }
  finish_record();
  if (records.empty()) throw_input_error(TextPlace{source}, "no records (the file is empty or holds only blank lines)");
  return records;
}

}  // namespace seqcnn::data
