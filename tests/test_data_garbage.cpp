// Damaged input never crashes a reader or slips through half-parsed: it
// either parses into well-formed records or throws InputError.
#include <gtest/gtest.h>

#include <random>

#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {
namespace {

void expect_parses_or_input_error(const std::string& text, InputFormat format) {
  try {
    const auto records = parse_raw(text, format, "damaged");
    ASSERT_FALSE(records.empty());
    for (const RawRecord& r : records) {
      EXPECT_FALSE(r.id.empty());
      EXPECT_FALSE(r.symbols.empty());
      if (format == InputFormat::Fasta) EXPECT_TRUE(r.labels.empty());
      else EXPECT_EQ(r.labels.size(), r.symbols.size());
    }
  } catch (const InputError&) {
  }
}

TEST(DamagedInput, MutatedFilesParseOrFailCleanly) {
  const std::pair<InputFormat, std::string> valid[] = {
      {InputFormat::ThreeLine, ">a\nACDEF\nHHECC\n>b\nKLM\nEE-\n"},
      {InputFormat::Fasta, ">a\nACDEF\nGH\n>b\nKLM\n"},
      {InputFormat::Conll, "-DOCSTART- O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\n"},
  };
  std::mt19937 rng(12345);
  const std::string alphabet = std::string(">\n\r -\t\0\xFF\xC3" "AZaz09", 15);
  for (const auto& [format, text] : valid) {
    for (int trial = 0; trial < 3000; ++trial) {
      std::string damaged = text;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t at = rng() % (damaged.size() + 1);
        const char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 3) {
          case 0: damaged.insert(at, 1, c); break;
          case 1: if (at < damaged.size()) damaged.erase(at, 1); break;
          default: if (at < damaged.size()) damaged[at] = c; break;
        }
      }
      expect_parses_or_input_error(damaged, format);
    }
  }
}

TEST(DamagedInput, RandomBytesFailCleanly) {
  std::mt19937 rng(777);
  for (InputFormat format : {InputFormat::ThreeLine, InputFormat::Fasta, InputFormat::Conll}) {
    for (int trial = 0; trial < 500; ++trial) {
      std::string bytes(rng() % 64, '\0');
      for (char& c : bytes) c = static_cast<char>(rng() & 0xFF);
      expect_parses_or_input_error(bytes, format);
    }
  }
}

}  // namespace
}  // namespace seqcnn
