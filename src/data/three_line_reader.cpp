// The 3-line format (see data/ss/README.md):
//   >ID
//   SEQUENCE   one letter per residue
//   LABELS     one symbol per residue
// CRLF line ends and trailing blank lines are accepted; nothing else.
#include <algorithm>
#include <string>

#include "data/readers.hpp"
#include "data/text_scan.hpp"

namespace seqcnn::data {

namespace {

std::string_view header_id(LineScanner& scan, std::string_view line) {
  if (line.empty() || line.front() != '>') {
    const bool bom = line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF";
    if (bom) scan.fail("expected a header line starting with '>', found a UTF-8 byte-order mark");
    if (is_blank_line(line)) scan.fail("unexpected blank line: expected a header line starting with '>'");
    scan.fail("expected a header line starting with '>'");
  }
  std::string_view id = line.substr(1);
  while (!id.empty() && is_blank(id.front())) id.remove_prefix(1);
  while (!id.empty() && is_blank(id.back())) id.remove_suffix(1);
  if (id.empty()) scan.fail("empty record id after '>'");
  return id;
}

// The line after a header: present, not empty, not another header.
std::string_view body_line(LineScanner& scan, std::string_view what) {
  std::string_view line;
  const int64_t header_line = scan.line_number();
  if (!scan.next(line)) {
    throw_input_error(TextPlace{scan.place().source, header_line, scan.record()},
                      "truncated record: the file ends where the " + std::string(what) + " line was expected");
  }
  if (!line.empty() && line.front() == '>') scan.fail("truncated record: expected the " + std::string(what) + " line, found a header");
  if (line.empty()) scan.fail("empty " + std::string(what) + " line (a record needs at least one residue)");
  return line;
}

}  // namespace

std::vector<RawRecord> parse_three_line(std::string_view text, std::string_view source) {
  LineScanner scan(text, source);
  std::vector<RawRecord> records;
  std::string_view line;
  while (scan.next(line)) {
    RawRecord record;
    record.line = scan.line_number();
    record.id = std::string(header_id(scan, line));
    scan.set_record(record.id);

    const std::string_view sequence = body_line(scan, "sequence");
    record.symbols.reserve(sequence.size());
    for (size_t i = 0; i < sequence.size(); ++i) {
      if (!is_ascii_letter(sequence[i]))
        scan.fail("expected a residue letter, found " + quote_char(sequence[i]), static_cast<int64_t>(i + 1));
      record.symbols.emplace_back(1, sequence[i]);
    }

    const std::string_view labels = body_line(scan, "labels");
    record.labels_line = scan.line_number();
    for (size_t i = 0; i < labels.size(); ++i) {
      const auto c = static_cast<unsigned char>(labels[i]);
      if (c < 0x21 || c > 0x7E)
        scan.fail("expected a one-character label symbol, found " + quote_char(labels[i]), static_cast<int64_t>(i + 1));
    }
    if (labels.size() != sequence.size()) {
      const size_t first_unmatched = std::min(labels.size(), sequence.size()) + 1;
      scan.fail("the sequence has " + std::to_string(sequence.size()) + " residues but the labels line has " +
                    std::to_string(labels.size()) + " symbols",
                static_cast<int64_t>(first_unmatched));
    }
    record.labels.reserve(labels.size());
    for (char c : labels) record.labels.emplace_back(1, c);
    records.push_back(std::move(record));
    scan.set_record("");
  }
  if (records.empty()) throw_input_error(TextPlace{source}, "no records (the file is empty or holds only blank lines)");
  return records;
}

}  // namespace seqcnn::data
