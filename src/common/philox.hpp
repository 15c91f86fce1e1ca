// Philox4x32-10 counter-based generator (Salmon et al., SC'11). A draw is a
// pure function of (key, counter), so CPU and GPU produce the same numbers
// in any order: used for initialisation and dropout masks.
#pragma once

#include <cstdint>

#include "common/host_device.hpp"

namespace seqcnn::rng {

struct Philox4 {
  uint32_t v[4];
};

SEQCNN_HD uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t product = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(product >> 32);
  return static_cast<uint32_t>(product);
}

SEQCNN_HD Philox4 philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo32(kMul0, c0, &hi0);
    const uint32_t lo1 = mulhilo32(kMul1, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float).
SEQCNN_HD float uniform01(uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }

// Uniform in [0, 1) with 53 random bits, from two draws.
SEQCNN_HD double uniform01_double(uint32_t hi_bits, uint32_t lo_bits) {
  const uint64_t x = (static_cast<uint64_t>(hi_bits) << 21) ^ (lo_bits >> 11);
  return static_cast<double>(x & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Purposes keep the streams of different consumers apart.
enum class Stream : uint32_t { Init = 1, Dropout = 2, Shuffle = 3 };

}  // namespace seqcnn::rng
