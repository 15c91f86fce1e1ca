// Embedding lookup and gradient: pad ids and gap rows give 0 and never
// learn (BR-11), the gradient equals central differences.
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/embedding.hpp"
#include "cpu_op_fixtures.hpp"
#include "grad_check.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {
namespace {

TEST(CpuEmbedding, ForwardCopiesRowsAndZeroesPadIdsAndGapRows) {
  const std::vector<float> table = {0.f, 0.f, 1.f, 2.f, 3.f, 4.f, 9.f, 9.f};  // V = 4, E = 2; pad id 3
  const std::vector<int32_t> tokens = {1, 3, 2, 0, 1};
  const std::vector<uint8_t> real = {1, 1, 1, 1, 0};
  std::vector<float> out(10, -5.f);
  cpu::embedding_forward(tokens.data(), real.data(), 5, table.data(), 2, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 2, 0, 0, 3, 4, 0, 0, 0, 0}));
}

TEST(CpuEmbedding, BR11_PadIdThreeGetsZeroGradient) {
  // vocab 5, dim 2, pad id 3, ids [[1, 3, 3], [3, 2, 3]], upstream all ones.
  const testing::RowLayout layout = testing::make_layout({3, 3}, 1);
  const Batch batch = testing::make_test_batch(layout, {{1, 3, 3}, {3, 2, 3}}, {{0, 0, 0}, {0, 0, 0}}, 3);
  const std::vector<float> upstream(static_cast<size_t>(layout.rows * 2), 1.f);
  std::vector<float> dtable(10, 0.f);
  cpu::embedding_backward(batch.tokens.data(), batch.row_is_real.data(), batch.rows, upstream.data(), 2, 5, 3,
                          dtable.data());
  EXPECT_EQ(dtable, (std::vector<float>{0, 0, 1, 1, 1, 1, 0, 0, 0, 0}));  // row 3 would be [4, 4] if pads learned
}

TEST(CpuEmbedding, BR11_SevenHundredSixtyNinePadsGiveZeroGradient) {
  const std::vector<int32_t> tokens(769, 0);
  const std::vector<uint8_t> real(769, 1);  // even when the rows are marked real
  const std::vector<float> upstream(769 * 8, 1.f);
  std::vector<float> dtable(3 * 8, 0.f);
  cpu::embedding_backward(tokens.data(), real.data(), 769, upstream.data(), 8, 3, 0, dtable.data());
  EXPECT_EQ(dtable, std::vector<float>(24, 0.f));
}

TEST(CpuEmbedding, GapRowsSendNoGradientWhateverTheirToken) {
  const std::vector<int32_t> tokens = {2, 1, 2};
  const std::vector<uint8_t> real = {0, 1, 0};
  const std::vector<double> upstream = {5.0, 1.0, 7.0};
  std::vector<double> dtable(3, 0.0);
  cpu::embedding_backward(tokens.data(), real.data(), 3, upstream.data(), 1, 3, 0, dtable.data());
  EXPECT_EQ(dtable, (std::vector<double>{0.0, 1.0, 0.0}));
}

TEST(CpuEmbedding, BackwardRejectsTokenOutsideVocabulary) {
  const std::vector<int32_t> tokens = {1, 5};
  const std::vector<uint8_t> real = {1, 1};
  const std::vector<double> upstream = {1.0, 1.0};
  std::vector<double> dtable(5, 0.0);
  EXPECT_THROW(cpu::embedding_backward(tokens.data(), real.data(), 2, upstream.data(), 1, 5, 0, dtable.data()),
               InputError);
  EXPECT_EQ(dtable, std::vector<double>(5, 0.0));
}

TEST(CpuEmbedding, GradientMatchesCentralDifferences) {
  std::mt19937_64 rng(3);
  const int vocab = 6, dim = 5, pad_id = 2;
  const testing::RowLayout layout = testing::make_layout({4, 7, 2}, 2);
  const Batch batch =
      testing::make_test_batch(layout, {{0, 1, 1, 5}, {3, 2, 4, 4, 0, 1, 3}, {5, 5}}, {{}, {}, {}}, pad_id);
  std::vector<double> table = testing::uniform_values(rng, static_cast<size_t>(vocab * dim));
  const std::vector<double> upstream = testing::uniform_values(rng, static_cast<size_t>(layout.rows * dim));
  std::vector<double> out(upstream.size());
  auto loss = [&] {
    cpu::embedding_forward(batch.tokens.data(), batch.row_is_real.data(), batch.rows, table.data(), dim, pad_id,
                           out.data());
    double total = 0.0;
    for (size_t e = 0; e < out.size(); ++e) total += upstream[e] * out[e];
    return total;
  };
  std::vector<double> dtable(table.size(), 0.0);
  cpu::embedding_backward(batch.tokens.data(), batch.row_is_real.data(), batch.rows, upstream.data(), dim, vocab,
                          pad_id, dtable.data());
  const double error = testing::gradient_error(table, dtable, loss);
  std::printf("embedding gradient check: %.2e\n", error);
  EXPECT_LE(error, testing::kGradientTolerance);
  for (int e = 0; e < dim; ++e) EXPECT_EQ(dtable[static_cast<size_t>(pad_id * dim + e)], 0.0);
}

}  // namespace
}  // namespace seqcnn
