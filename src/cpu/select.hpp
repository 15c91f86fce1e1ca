// Branch-free selection for the epilogues: the result is `value` or +0,
// never value * 0 (which would turn inf into NaN).
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

namespace seqcnn::cpu {

// `value` when keep, else +0. A bitwise AND rather than a ternary: with a
// ternary the compiler moves the (possibly trapping) multiply that produced
// `value` into a branch and then cannot vectorise the loop.
template <class T>
inline T select_or_zero(bool keep, T value) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const Bits mask = keep ? ~Bits{0} : Bits{0};
  return std::bit_cast<T>(static_cast<Bits>(std::bit_cast<Bits>(value) & mask));
}

}  // namespace seqcnn::cpu
