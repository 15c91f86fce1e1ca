#include <algorithm>
#include <set>

#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

namespace {

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "HEC" -> {H, E, C}; "B-PER,I-PER,O" -> {B-PER, I-PER, O}.
std::vector<std::string> split_order(std::string_view order) {
  std::vector<std::string> symbols;
  if (order.find(',') == std::string_view::npos) {
    for (char c : order) symbols.emplace_back(1, c);
    return symbols;
  }
  size_t start = 0;
  while (true) {
    const size_t comma = order.find(',', start);
    const std::string_view name = trim_blanks(order.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (name.empty()) throw ConfigError("label order '" + std::string(order) + "' has an empty name between commas");
    symbols.emplace_back(name);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return symbols;
}

}  // namespace

LabelSet::LabelSet(std::vector<std::string> symbols, std::string no_label)
    : symbols_(std::move(symbols)), no_label_(std::move(no_label)) {
  if (symbols_.empty()) throw ConfigError("a label set needs at least one class");
  std::set<std::string_view> seen;
  for (const std::string& s : symbols_) {
    if (s.empty()) throw ConfigError("a label symbol is empty");
    if (s == no_label_)
      throw ConfigError("label '" + s + "' is the no-label symbol; it cannot also be a class");
    if (!seen.insert(s).second) throw ConfigError("label '" + s + "' appears twice in the label order");
  }
}

LabelSet LabelSet::from_seen(const std::vector<std::string>& seen, std::string_view order, std::string no_label) {
  if (!order.empty()) return LabelSet(split_order(order), std::move(no_label));
  std::set<std::string> unique(seen.begin(), seen.end());
  unique.erase(no_label);
  if (unique.empty()) throw ConfigError("no label symbols seen in the data and no label order configured");
  return LabelSet(std::vector<std::string>(unique.begin(), unique.end()), std::move(no_label));
}

int32_t LabelSet::id(std::string_view symbol) const {
  if (!no_label_.empty() && symbol == no_label_) return kIgnoreLabel;
  for (size_t i = 0; i < symbols_.size(); ++i)
    if (symbols_[i] == symbol) return static_cast<int32_t>(i);
  return -2;
}

}  // namespace seqcnn
