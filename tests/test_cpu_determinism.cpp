// Results do not depend on the OpenMP thread count: every reduction runs
// over fixed-size row chunks summed in chunk order, so 1 and 2 threads give
// bitwise-identical gradients on batches of thousands of rows.
#include <omp.h>

#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/adamw.hpp"
#include "cpu/conv1d.hpp"
#include "cpu/dense.hpp"
#include "cpu/model_pass.hpp"
#include "cpu/row_chunks.hpp"
#include "cpu_model_fixture.hpp"

namespace seqcnn {
namespace {

std::vector<float> random_floats(std::mt19937_64& rng, size_t n) {
  const std::vector<double> v = testing::uniform_values(rng, n);
  return std::vector<float>(v.begin(), v.end());
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs `compute` with 1 and then 2 threads and returns both results.
template <class Result>
std::pair<Result, Result> with_one_and_two_threads(const std::function<Result()>& compute) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  Result one = compute();
  omp_set_num_threads(2);
  Result two = compute();
  omp_set_num_threads(saved);
  return {std::move(one), std::move(two)};
}

struct Grads {
  std::vector<float> a, b, c;
};

TEST(CpuDeterminism, ConvBackwardIsBitwiseIdenticalForOneAndTwoThreads) {
  std::mt19937_64 rng(1);
  std::vector<int64_t> lengths;
  std::uniform_int_distribution<int64_t> length(1, 400);
  for (int s = 0; s < 60; ++s) lengths.push_back(length(rng));
  Conv1dShape shape;
  shape.in_channels = 32;
  shape.out_channels = 48;
  shape.kernel = 5;
  shape.dilation = 2;
  const testing::RowLayout layout = testing::make_layout(lengths, shape.reach_right());
  shape.rows = layout.rows;
  shape.halo = layout.halo;
  ASSERT_GT(layout.rows, 4 * cpu::kReduceChunk);  // several reduction chunks
  std::vector<std::vector<float>> seq_x;
  for (int64_t n : lengths) seq_x.push_back(random_floats(rng, static_cast<size_t>(n * shape.in_channels)));
  const std::vector<float> x = testing::scatter_rows(layout, shape.in_channels, seq_x);
  const std::vector<float> w = random_floats(rng, static_cast<size_t>(shape.kernel * 32 * 48));
  const std::vector<float> dpre = random_floats(rng, static_cast<size_t>(layout.rows * 48));
  const auto [one, two] = with_one_and_two_threads<Grads>([&] {
    Grads g{std::vector<float>(w.size(), 0.f), std::vector<float>(48, 0.f), std::vector<float>(x.size(), 0.f)};
    cpu::conv1d_backward_weight(shape, x.data(), dpre.data(), g.a.data(), g.b.data());
    cpu::conv1d_backward_data(shape, w.data(), dpre.data(), g.c.data());
    return g;
  });
  EXPECT_TRUE(bitwise_equal(one.a, two.a)) << "weight gradient";
  EXPECT_TRUE(bitwise_equal(one.b, two.b)) << "bias gradient";
  EXPECT_TRUE(bitwise_equal(one.c, two.c)) << "input gradient";
}

TEST(CpuDeterminism, DenseBackwardIsBitwiseIdenticalForOneAndTwoThreads) {
  std::mt19937_64 rng(2);
  const int64_t rows = 9001;
  const int in = 64, classes = 8;
  const std::vector<float> h = random_floats(rng, static_cast<size_t>(rows * in));
  const std::vector<float> w = random_floats(rng, static_cast<size_t>(classes * in));
  const std::vector<float> dlogits = random_floats(rng, static_cast<size_t>(rows * classes));
  const auto [one, two] = with_one_and_two_threads<Grads>([&] {
    Grads g{std::vector<float>(w.size(), 0.f), std::vector<float>(classes, 0.f), std::vector<float>(h.size())};
    cpu::dense_backward(rows, in, classes, h.data(), w.data(), dlogits.data(), g.c.data(), g.a.data(), g.b.data());
    return g;
  });
  EXPECT_TRUE(bitwise_equal(one.a, two.a)) << "weight gradient";
  EXPECT_TRUE(bitwise_equal(one.b, two.b)) << "bias gradient";
  EXPECT_TRUE(bitwise_equal(one.c, two.c)) << "input gradient";
}

struct StepResult {
  double loss = 0.0, squares = 0.0;
  std::vector<float> grads;
};

TEST(CpuDeterminism, WholeModelStepIsBitwiseIdenticalForOneAndTwoThreads) {
  const ModelShape shape = testing::make_model_shape(22, 16, {{32, 5, 1}, {32, 3, 2}}, 8, 0, 0.1f);
  std::mt19937_64 rng(3);
  std::vector<int64_t> lengths;
  std::uniform_int_distribution<int64_t> length(0, 300);
  for (int s = 0; s < 30; ++s) lengths.push_back(length(rng));
  const testing::SequenceSet set = testing::random_sequences(rng, lengths, shape.vocab, shape.classes);
  const Batch batch = testing::batch_of(set, testing::make_layout(lengths, shape.halo));
  const std::vector<float> params = random_floats(rng, static_cast<size_t>(shape.parameter_count));
  const std::vector<float> scale = testing::token_mean_scale<float>(batch);
  const auto [one, two] = with_one_and_two_threads<StepResult>([&] {
    cpu::ModelActivations<float> acts;
    StepResult r;
    r.grads.assign(static_cast<size_t>(shape.parameter_count), 0.f);
    r.loss = cpu::model_forward_backward(shape, params.data(), batch, scale.data(), {}, 7, 11, acts, r.grads.data())
                 .loss;
    r.squares = cpu::sum_of_squares(shape.parameter_count, r.grads.data());
    return r;
  });
  EXPECT_EQ(one.loss, two.loss);
  EXPECT_EQ(one.squares, two.squares);
  EXPECT_TRUE(bitwise_equal(one.grads, two.grads));
  std::printf("model step over %lld rows: loss %.9g, grad norm^2 %.9g (1 and 2 threads)\n",
              static_cast<long long>(batch.rows), one.loss, one.squares);
}

}  // namespace
}  // namespace seqcnn
