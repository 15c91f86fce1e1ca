#include <array>
#include <unordered_map>

#include "data/text_scan.hpp"
#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

namespace {

constexpr std::string_view kPad = "<pad>";
constexpr std::string_view kUnknown = "<unk>";
constexpr std::string_view kAminoAcids = "ACDEFGHIKLMNPQRSTVWY";
constexpr int32_t kProteinUnknownId = static_cast<int32_t>(kAminoAcids.size()) + 1;  // "X"

// Letter -> protein id; both cases of the 20 amino acids, every other letter
// -> X; 0 marks a non-letter.
constexpr std::array<int32_t, 128> make_protein_table() {
  std::array<int32_t, 128> table{};
  for (char c = 'A'; c <= 'Z'; ++c) {
    table[static_cast<size_t>(c)] = kProteinUnknownId;
    table[static_cast<size_t>(c - 'A' + 'a')] = kProteinUnknownId;
  }
  for (size_t i = 0; i < kAminoAcids.size(); ++i) {
    const char c = kAminoAcids[i];
    table[static_cast<size_t>(c)] = static_cast<int32_t>(i + 1);
    table[static_cast<size_t>(c - 'A' + 'a')] = static_cast<int32_t>(i + 1);
  }
  return table;
}
constexpr std::array<int32_t, 128> kProteinTable = make_protein_table();

bool has_space_or_control(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return true;
  return false;
}

}  // namespace

Vocabulary Vocabulary::protein() {
  Vocabulary v;
  v.kind_ = Kind::Protein;
  v.symbols_.emplace_back(kPad);
  for (char c : kAminoAcids) v.symbols_.emplace_back(1, c);
  v.symbols_.emplace_back("X");
  v.unknown_id_ = kProteinUnknownId;
  return v;
}

Vocabulary Vocabulary::from_tokens(const std::vector<std::string>& tokens_in_order, int min_freq) {
  if (min_freq < 1) throw ConfigError("minimum token frequency must be >= 1, got " + std::to_string(min_freq));
  std::unordered_map<std::string_view, int64_t> counts;
  for (const std::string& token : tokens_in_order) {
    if (token.empty()) throw InputError("cannot build a vocabulary: empty token");
    ++counts[token];
  }
  std::vector<std::string> symbols{std::string(kPad), std::string(kUnknown)};
  for (const std::string& token : tokens_in_order) {
    auto it = counts.find(token);
    // The count is cleared once the token is taken, so each enters once.
    if (it->second >= min_freq && token != kPad && token != kUnknown) symbols.push_back(token);
    it->second = 0;
  }
  return from_symbols(Kind::Token, std::move(symbols));
}

Vocabulary Vocabulary::from_symbols(Kind kind, std::vector<std::string> symbols) {
  if (kind == Kind::Protein) {
    if (symbols != protein().symbols_)
      throw CheckpointError("stored protein vocabulary differs from seqcnn's fixed alphabet (<pad> " +
                            std::string(kAminoAcids) + " X)");
    return protein();
  }
  if (symbols.size() < 2 || symbols[0] != kPad || symbols[1] != kUnknown)
    throw CheckpointError("stored token vocabulary must start with \"<pad>\", \"<unk>\"");
  Vocabulary v;
  v.kind_ = Kind::Token;
  v.unknown_id_ = 1;
  v.index_.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (symbols[i].empty() || has_space_or_control(symbols[i]))
      throw CheckpointError("stored token vocabulary: symbol " + std::to_string(i) +
                            " is empty or holds whitespace or control characters");
    if (!v.index_.emplace(symbols[i], static_cast<int32_t>(i)).second)
      throw CheckpointError("stored token vocabulary: symbol '" + symbols[i] + "' appears twice");
  }
  v.symbols_ = std::move(symbols);
  return v;
}

int32_t Vocabulary::id(std::string_view symbol) const {
  if (kind_ == Kind::Protein) {
    if (symbol.size() == 1 && data::is_ascii_letter(symbol[0])) return residue_id(symbol[0]);
    return unknown_id_;
  }
  if (symbol == kPad) return unknown_id_;
  auto it = index_.find(symbol);
  return it == index_.end() ? unknown_id_ : it->second;
}

int32_t Vocabulary::residue_id(char letter) const {
  if (!data::is_ascii_letter(letter)) throw InputError(data::quote_char(letter) + " is not a residue letter");
  if (kind_ == Kind::Protein) return kProteinTable[static_cast<size_t>(letter)];
  return id(std::string_view(&letter, 1));
}

}  // namespace seqcnn
