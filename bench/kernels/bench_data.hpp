// Inputs for the kernel benchmark: a packed batch's row pattern (protein-
// length sequences separated by halo gaps) and seeded random values. The
// values only need to be finite and of realistic magnitude; timing does not
// depend on them.
#pragma once

#include <cstdint>
#include <vector>

namespace seqcnn::bench {

struct RowPattern {
  std::vector<uint8_t> row_is_real;  // [rows]
  std::vector<int32_t> tokens;       // [rows]; 0 (pad) on gap rows, [1, vocab) on real rows
  std::vector<int32_t> labels;       // [rows]; -1 on gaps and on 5% of real rows, else [0, classes)
  std::vector<float> row_scale;      // [rows]; 1 / counted on counted rows, else 0 (token mean)
};

// Sequences of 30..600 rows (median near 240, like the protein data), each
// followed by max(1, halo) zero rows, after a leading halo.
RowPattern make_row_pattern(int64_t rows, int halo, int vocab, int classes, uint64_t seed);

// n values uniform in [-scale, scale), seeded.
std::vector<float> random_values(int64_t n, float scale, uint64_t seed);

}  // namespace seqcnn::bench
