// Limits and mismatches between a model and its data, each a clear
// seqcnn::Error naming the file, record and what was expected: data.max_length
// (error or crop), empty files and splits, labels a model never saw, and a
// token vocabulary meeting protein data or the other way round.
#include <gtest/gtest.h>

#include "seqcnn/seqcnn.hpp"
#include "test_data_support.hpp"

namespace seqcnn {
namespace {

using testing::expect_mentions;
using testing::message_of;
using testing::ScratchDir;

// Three records of 5, 12 and 7 residues; 'b' starts on line 4.
constexpr const char* kThreeRecords = ">a\nACDEF\nHHECC\n>b\nMKVLAAGIWYST\nCCHHHHHCCEEC\n>c\nWYVTSRQ\nEEEECCC\n";

DataConfig data_config(const std::string& train, int64_t max_length, TooLong policy) {
  DataConfig c;
  c.train_path = train;
  c.valid_path = c.test_path = "";
  c.max_length = max_length;
  c.too_long = policy;
  return c;
}

Model protein_model() {
  ModelConfig mc;
  mc.embed_dim = 4;
  mc.convs = {{3, 3, 1}};
  return Model::initialize(mc, Vocabulary::protein(), LabelSet({"C", "E", "H"}, "-"), 1);
}

Model conll_model() {
  ModelConfig mc;
  mc.embed_dim = 4;
  mc.convs = {{3, 3, 1}};
  return Model::initialize(mc, Vocabulary::from_tokens({"Lyon", "beat", "Porto"}, 1), LabelSet({"B-LOC", "B-ORG", "O"}, "-"), 1);
}

TEST(MaxLength, ARecordOverTheLimitNamesFileRecordLengthAndLimit) {
  ScratchDir dir;
  const std::string train = dir.write("train.txt", kThreeRecords);
  const std::string e = message_of<InputError>([&] { load_training_data(data_config(train, 10, TooLong::Error)); });
  expect_mentions(e, {"training split", train + ":4", "record 'b'", "length 12", "data.max_length 10", "crop"});
  // At the limit exactly is fine.
  EXPECT_NO_THROW(load_training_data(data_config(train, 12, TooLong::Error)));
  // The validation split is held to the same limit, and named.
  DataConfig with_valid = data_config(dir.write("short.txt", ">s\nACD\nHEC\n"), 10, TooLong::Error);
  with_valid.valid_path = train;
  expect_mentions(message_of<InputError>([&] { load_training_data(with_valid); }),
                  {"validation split", train + ":4", "record 'b'", "length 12"});
}

TEST(MaxLength, CropKeepsTheFirstPositionsAndTheirLabels) {
  ScratchDir dir;
  const std::string train = dir.write("train.txt", kThreeRecords);
  const TrainingData whole = load_training_data(data_config(train, 0, TooLong::Error));
  const TrainingData cropped = load_training_data(data_config(train, 6, TooLong::Crop));
  ASSERT_EQ(cropped.train.records.size(), 3u);
  const std::vector<int64_t> expected_lengths{5, 6, 6};
  for (size_t i = 0; i < 3; ++i) {
    const Record& c = cropped.train.records[i];
    const Record& w = whole.train.records[i];
    EXPECT_EQ(c.length(), expected_lengths[i]) << c.id;
    EXPECT_EQ(c.tokens, std::vector<int32_t>(w.tokens.begin(), w.tokens.begin() + c.length())) << c.id;
    EXPECT_EQ(c.labels, std::vector<int32_t>(w.labels.begin(), w.labels.begin() + c.length())) << c.id;
  }
  // Cropped data trains.
  TrainConfig config = preset_config("seed");
  config.model = protein_model().config();
  config.run.epochs = 1;
  config.run.out_dir = "";
  config.data = data_config(train, 6, TooLong::Crop);
  Model model = Model::initialize(config.model, cropped.vocab, cropped.labels, 1);
  Trainer trainer(config, model, cropped.train, nullptr);
  EXPECT_GT(trainer.run().steps, 0);
}

TEST(EmptyData, AnEmptyFileIsAnErrorNamingTheSplitAndFile) {
  ScratchDir dir;
  const std::string empty = dir.write("empty.txt", "");
  const std::string blank = dir.write("blank.txt", "\n\n  \n");
  const std::string good = dir.write("good.txt", kThreeRecords);
  expect_mentions(message_of<InputError>([&] { load_training_data(data_config(empty, 0, TooLong::Error)); }),
                  {"training split", empty, "no records"});
  expect_mentions(message_of<InputError>([&] { load_training_data(data_config(blank, 0, TooLong::Error)); }),
                  {"training split", blank, "no records"});
  DataConfig c = data_config(good, 0, TooLong::Error);
  c.valid_path = empty;
  expect_mentions(message_of<InputError>([&] { load_training_data(c); }), {"validation split", empty, "no records"});
  c.valid_path = "";
  c.test_path = empty;
  expect_mentions(message_of<InputError>([&] { load_training_data(c); }), {"test split", empty, "no records"});
  c.format = InputFormat::Conll;
  c.train_path = empty;
  c.test_path = "";
  expect_mentions(message_of<InputError>([&] { load_training_data(c); }), {"training split", empty, "no records"});
}

TEST(EmptyData, ASplitWithNothingCountedIsAnError) {
  ScratchDir dir;
  const std::string good = dir.write("good.txt", kThreeRecords);
  const std::string unlabelled = dir.write("dashes.txt", ">u\nACDE\n----\n>v\nKLM\n---\n");
  DataConfig c = data_config(good, 0, TooLong::Error);
  c.valid_path = unlabelled;
  expect_mentions(message_of<InputError>([&] { load_training_data(c); }),
                  {"validation split", unlabelled, "none of its 2 records", "no-label symbol '-'"});
  // A Dataset handed to the trainer directly is checked too.
  Model model = protein_model();
  TrainConfig config = preset_config("seed");
  config.model = model.config();
  config.run.out_dir = "";
  Dataset empty;
  empty.source = "in-memory";
  Trainer no_records(config, model, empty, nullptr);
  expect_mentions(message_of<InputError>([&] { no_records.run(); }), {"training split", "in-memory", "no records"});
  Dataset masked;
  masked.source = "masked";
  masked.records.push_back({"m", {1, 2, 3}, {kIgnoreLabel, kIgnoreLabel, kIgnoreLabel}});
  Trainer nothing_counted(config, model, masked, nullptr);
  expect_mentions(message_of<InputError>([&] { nothing_counted.run(); }), {"masked", "no position has a counted label"});
}

TEST(LabelMismatch, ALabelTheModelNeverSawNamesFileLinePositionAndChoices) {
  ScratchDir dir;
  const std::string eval = dir.write("eval.txt", ">a\nACDE\nHECC\n>b\nKLMN\nHHXC\n");
  const Model m = protein_model();
  expect_mentions(message_of<InputError>([&] { read_dataset(eval, InputFormat::ThreeLine, m.vocab(), m.labels()); }),
                  {eval + ":6", "record 'b'", "position 3", "'X'", "C, E, H"});
}

TEST(LabelMismatch, LabelIdsBeyondTheModelsClassesAreRefusedNotRead) {
  // A Dataset mapped with a larger label set would index past the model's
  // outputs: evaluate and the trainer refuse it up front.
  const Model m = protein_model();
  Dataset d;
  d.source = "five-classes";
  d.records.push_back({"r0", {1, 2, 3, 4}, {0, 1, 2, 0}});
  d.records.push_back({"r1", {5, 6, 7}, {2, 4, kIgnoreLabel}});
  expect_mentions(message_of<InputError>([&] { evaluate(m, d); }),
                  {"five-classes", "record 'r1'", "position 2", "label id 4", "3 classes"});
  TrainConfig config = preset_config("seed");
  config.model = m.config();
  config.run.out_dir = "";
  Model trained = m;
  Trainer trainer(config, trained, d, nullptr);
  expect_mentions(message_of<InputError>([&] { trainer.run(); }), {"record 'r1'", "label id 4"});
}

TEST(VocabularyMismatch, AConllModelCannotReadProteinDataNorTheOtherWayRound) {
  ScratchDir dir;
  const std::string fasta = dir.write("in.fasta", ">q\nMKVL\n");
  const std::string three = dir.write("in.txt", ">q\nMKVL\nHHEC\n");
  const std::string conll = dir.write("in.conll", "Lyon B-LOC\nbeat O\n");
  const Model token = conll_model(), protein = protein_model();
  expect_mentions(message_of<InputError>([&] { check_vocabulary_fits_format(token.vocab(), InputFormat::Fasta, fasta); }),
                  {fasta, "vocabulary mismatch", "token vocabulary"});
  expect_mentions(message_of<InputError>([&] { read_dataset(three, InputFormat::ThreeLine, token.vocab(), token.labels()); }),
                  {three, "vocabulary mismatch", "token vocabulary"});
  expect_mentions(message_of<InputError>([&] { read_dataset(conll, InputFormat::Conll, protein.vocab(), protein.labels()); }),
                  {conll, "vocabulary mismatch", "protein alphabet"});
  // CoNLL data from another corpus: not a single known token.
  const std::string other = dir.write("other.conll", "Madrid B-LOC\nwon O\n\nagain O\n");
  expect_mentions(message_of<InputError>([&] { read_dataset(other, InputFormat::Conll, token.vocab(), token.labels()); }),
                  {other, "vocabulary mismatch", "none of the 3 tokens", "'Lyon'"});
}

TEST(VocabularyMismatch, TokenIdsBeyondTheModelsVocabularyAreRefusedNotRead) {
  // Records mapped with a larger vocabulary (a token model's ids) given to
  // a protein model: predict and evaluate refuse them before any lookup.
  const Model m = protein_model();
  Dataset d;
  d.source = "token-ids";
  d.records.push_back({"r0", {1, 2, 3}, {0, 1, 2}});
  d.records.push_back({"r1", {4, 5, 900}, {0, 1, 2}});
  expect_mentions(message_of<InputError>([&] { evaluate(m, d); }), {"token-ids", "'r1'", "token id 900", "vocabulary size 22"});
  expect_mentions(message_of<InputError>([&] { predict(m, d.records); }), {"'r1'", "token id 900"});
}

}  // namespace
}  // namespace seqcnn
