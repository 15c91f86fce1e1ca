#include "data/text_scan.hpp"

#include <cstdio>

#include "seqcnn/errors.hpp"

namespace seqcnn::data {

std::string describe(const TextPlace& place, std::string_view what) {
  std::string message(place.source);
  if (place.line > 0) {
    message += ':';
    message += std::to_string(place.line);
  }
  message += ": ";
  if (!place.record.empty()) {
    message += "record '";
    message += place.record;
    message += "'";
  }
  if (place.position > 0) {
    message += place.record.empty() ? "" : ", ";
    message += place.position_word;
    message += ' ';
    message += std::to_string(place.position);
  }
  if (!place.record.empty() || place.position > 0) message += ": ";
  message += what;
  return message;
}

void throw_input_error(const TextPlace& place, std::string_view what) { throw InputError(describe(place, what)); }

std::string quote_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  char text[16];
  if (byte >= 0x21 && byte <= 0x7E) {
    std::snprintf(text, sizeof text, "'%c'", c);
  } else if (byte == ' ') {
    std::snprintf(text, sizeof text, "a space");
  } else {
    std::snprintf(text, sizeof text, "byte 0x%02X", static_cast<unsigned>(byte));
  }
  return text;
}

bool is_blank_line(std::string_view line) {
  for (char c : line)
    if (!is_blank(c) && c != '\r') return false;
  return true;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](size_t k, unsigned char lo, unsigned char hi) {
    if (i + k >= s.size()) return false;
    const auto b = static_cast<unsigned char>(s[i + k]);
    return b >= lo && b <= hi;
  };
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

}  // namespace

LineScanner::LineScanner(std::string_view text, std::string_view source) : text_(text), source_(source) {
  size_t offset = 0;
  while (offset < text_.size()) {
    const std::string_view line = split_line(offset);
    if (!is_blank_line(line)) content_end_ = offset;
  }
}

std::string_view LineScanner::split_line(size_t& offset) const {
  const size_t newline = text_.find('\n', offset);
  const size_t end = newline == std::string_view::npos ? text_.size() : newline;
  std::string_view line = text_.substr(offset, end - offset);
  offset = newline == std::string_view::npos ? text_.size() : newline + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool LineScanner::peek(std::string_view& line) const {
  if (offset_ >= content_end_) return false;
  size_t offset = offset_;
  line = split_line(offset);
  return true;
}

bool LineScanner::next(std::string_view& line) {
  if (offset_ >= content_end_) return false;
  line = split_line(offset_);
  ++line_number_;
  check_text(line);
  return true;
}

void LineScanner::check_text(std::string_view line) const {
  for (size_t i = 0; i < line.size();) {
    const auto byte = static_cast<unsigned char>(line[i]);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7F) {
      throw_input_error(TextPlace{source_, line_number_, record_, static_cast<int64_t>(i + 1), "column"},
                        quote_char(line[i]) + " is a control character, not text (binary data?)");
    }
    const size_t length = utf8_sequence_length(line, i);
    if (length == 0) {
      throw_input_error(TextPlace{source_, line_number_, record_, static_cast<int64_t>(i + 1), "column"},
                        quote_char(line[i]) + " is not valid UTF-8 text (binary data?)");
    }
    i += length;
  }
}

}  // namespace seqcnn::data
