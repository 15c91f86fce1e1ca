// Shared pieces of the text readers: line iteration that checks every byte
// is text, and the one error format all readers use:
//   file:line: record 'id', position N: what
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace seqcnn::data {

// Where in a text file something went wrong. Zero / empty fields are left
// out of the message.
struct TextPlace {
  TextPlace(std::string_view source_, int64_t line_ = 0, std::string_view record_ = {}, int64_t position_ = 0,
            std::string_view position_word_ = "position")
      : source(source_), line(line_), record(record_), position(position_), position_word(position_word_) {}

  std::string_view source;
  int64_t line = 0;          // 1-based; 0 = the file as a whole
  std::string_view record;   // record id; empty = before the first record
  int64_t position = 0;      // 1-based; 0 = the line as a whole
  std::string_view position_word = "position";
};

std::string describe(const TextPlace& place, std::string_view what);
[[noreturn]] void throw_input_error(const TextPlace& place, std::string_view what);

// A character for a message: 'A', or a hex code for anything unprintable.
std::string quote_char(char c);

inline bool is_ascii_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
inline bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_blank_line(std::string_view line);

// Iterates the lines of a text: strips "\n" and one trailing "\r" (CRLF
// files), stops before trailing blank lines, and rejects control bytes and
// invalid UTF-8 (binary data) with the line, column and current record.
class LineScanner {
 public:
  LineScanner(std::string_view text, std::string_view source);

  // The next line, or false at the end (trailing blank lines excluded).
  bool next(std::string_view& line);
  // Looks at the next line without consuming it.
  bool peek(std::string_view& line) const;
  int64_t line_number() const { return line_number_; }  // of the line last returned
  // The record the following lines belong to, for error messages.
  void set_record(std::string_view id) { record_ = id; }
  std::string_view record() const { return record_; }

  TextPlace place(int64_t position = 0) const {
    return TextPlace{source_, line_number_, record_, position, "position"};
  }
  [[noreturn]] void fail(std::string_view what, int64_t position = 0) const {
    throw_input_error(place(position), what);
  }

 private:
  std::string_view split_line(size_t& offset) const;
  void check_text(std::string_view line) const;

  std::string_view text_;
  std::string_view source_;
  size_t offset_ = 0;
  size_t content_end_ = 0;  // end of the last line holding a non-blank character
  int64_t line_number_ = 0;
  std::string record_;
};

}  // namespace seqcnn::data
