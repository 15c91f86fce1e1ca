// Vocabularies (fixed protein alphabet, token vocabularies with a minimum
// frequency) and label sets (configured order or sorted symbols).
#include <gtest/gtest.h>

#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;

TEST(ProteinVocabulary, IsPadThenTheTwentyAminoAcidsThenX) {
  const Vocabulary v = Vocabulary::protein();
  ASSERT_EQ(v.size(), 22);
  EXPECT_EQ(v.symbols()[0], "<pad>");
  const std::string amino_acids = "ACDEFGHIKLMNPQRSTVWY";
  for (size_t i = 0; i < amino_acids.size(); ++i) {
    EXPECT_EQ(v.symbols()[i + 1], std::string(1, amino_acids[i]));
    EXPECT_EQ(v.residue_id(amino_acids[i]), static_cast<int32_t>(i + 1));
  }
  EXPECT_EQ(v.symbols()[21], "X");
  EXPECT_EQ(v.unknown_id(), 21);
  EXPECT_EQ(v.pad_id(), 0);
}

TEST(ProteinVocabulary, FoldsCaseAndMapsOtherLettersToX) {
  const Vocabulary v = Vocabulary::protein();
  for (char c = 'a'; c <= 'z'; ++c) EXPECT_EQ(v.residue_id(c), v.residue_id(static_cast<char>(c - 'a' + 'A'))) << c;
  for (char c : std::string("BZUOJXbzuojx")) EXPECT_EQ(v.residue_id(c), v.unknown_id()) << c;
  EXPECT_EQ(v.id("w"), v.residue_id('W'));
  // Never the pad id, whatever the input.
  EXPECT_EQ(v.id("<pad>"), v.unknown_id());
  EXPECT_EQ(v.id("AC"), v.unknown_id());
}

TEST(ProteinVocabulary, NonLetterIsAnError) {
  const Vocabulary v = Vocabulary::protein();
  expect_mentions(message_of<InputError>([&] { v.residue_id('1'); }), {"'1'", "not a residue letter"});
  expect_mentions(message_of<InputError>([&] { v.residue_id('*'); }), {"'*'"});
}

TEST(TokenVocabulary, KeepsTokensOfMinimumFrequencyInOrderOfFirstAppearance) {
  const std::vector<std::string> tokens{"the", "cat", "the", "sat", "on", "the", "mat", "cat", "<pad>", "<pad>"};
  const Vocabulary all = Vocabulary::from_tokens(tokens, 1);
  EXPECT_EQ(all.symbols(), (std::vector<std::string>{"<pad>", "<unk>", "the", "cat", "sat", "on", "mat"}));
  const Vocabulary frequent = Vocabulary::from_tokens(tokens, 2);
  EXPECT_EQ(frequent.symbols(), (std::vector<std::string>{"<pad>", "<unk>", "the", "cat"}));
  EXPECT_EQ(frequent.kind(), Vocabulary::Kind::Token);
  EXPECT_EQ(frequent.unknown_id(), 1);
  EXPECT_EQ(frequent.id("cat"), 3);
  EXPECT_EQ(frequent.id("sat"), 1);
  EXPECT_EQ(frequent.id("Cat"), 1);  // token mode is case-sensitive
  EXPECT_EQ(frequent.id("<pad>"), 1);
  EXPECT_EQ(frequent.residue_id('x'), 1);
  EXPECT_EQ(Vocabulary::from_tokens(tokens, 4).size(), 2);
  EXPECT_THROW(Vocabulary::from_tokens(tokens, 0), ConfigError);
}

TEST(StoredVocabulary, RoundTripsAndRejectsBrokenLists) {
  const Vocabulary tokens = Vocabulary::from_tokens({"a", "b", "a"}, 1);
  EXPECT_EQ(Vocabulary::from_symbols(Vocabulary::Kind::Token, tokens.symbols()), tokens);
  EXPECT_EQ(Vocabulary::from_symbols(Vocabulary::Kind::Protein, Vocabulary::protein().symbols()), Vocabulary::protein());
  EXPECT_THROW(Vocabulary::from_symbols(Vocabulary::Kind::Token, {"<pad>", "<unk>", "a", "a"}), CheckpointError);
  EXPECT_THROW(Vocabulary::from_symbols(Vocabulary::Kind::Token, {"<unk>", "<pad>", "a"}), CheckpointError);
  EXPECT_THROW(Vocabulary::from_symbols(Vocabulary::Kind::Token, {"<pad>", "<unk>", "a b"}), CheckpointError);
  EXPECT_THROW(Vocabulary::from_symbols(Vocabulary::Kind::Token, {"<pad>", "<unk>", ""}), CheckpointError);
  auto shuffled = Vocabulary::protein().symbols();
  std::swap(shuffled[1], shuffled[2]);
  EXPECT_THROW(Vocabulary::from_symbols(Vocabulary::Kind::Protein, shuffled), CheckpointError);
}

TEST(LabelSet, SortedSymbolsSeenWithoutTheNoLabelSymbol) {
  const LabelSet labels = LabelSet::from_seen({"H", "C", "-", "E", "H", "C"}, "", "-");
  EXPECT_EQ(labels.symbols(), (std::vector<std::string>{"C", "E", "H"}));
  EXPECT_EQ(labels.id("C"), 0);
  EXPECT_EQ(labels.id("H"), 2);
  EXPECT_EQ(labels.id("-"), kIgnoreLabel);
  EXPECT_EQ(labels.id("G"), -2);
}

TEST(LabelSet, ConfiguredOrderWinsOverSortedOrder) {
  const LabelSet chars = LabelSet::from_seen({"C", "E", "H"}, "HEC", "-");
  EXPECT_EQ(chars.symbols(), (std::vector<std::string>{"H", "E", "C"}));
  EXPECT_EQ(chars.id("H"), 0);
  EXPECT_EQ(chars.id("C"), 2);
  const LabelSet names = LabelSet::from_seen({"O"}, "B-PER, I-PER,O", "-");
  EXPECT_EQ(names.symbols(), (std::vector<std::string>{"B-PER", "I-PER", "O"}));
  EXPECT_EQ(names.id("I-PER"), 1);
  EXPECT_EQ(names.id("B-LOC"), -2);
}

TEST(LabelSet, BadOrdersAreConfigErrors) {
  expect_mentions(message_of<ConfigError>([] { LabelSet::from_seen({}, "HEH", "-"); }), {"'H'", "twice"});
  expect_mentions(message_of<ConfigError>([] { LabelSet::from_seen({}, "HE-C", "-"); }), {"'-'", "no-label"});
  expect_mentions(message_of<ConfigError>([] { LabelSet::from_seen({}, "O,,B-PER", "-"); }), {"empty name"});
  EXPECT_THROW(LabelSet::from_seen({"-", "-"}, "", "-"), ConfigError);
  EXPECT_THROW(LabelSet({"A", "A"}, "-"), ConfigError);
}

}  // namespace
}  // namespace seqcnn
