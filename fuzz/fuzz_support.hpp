// Shared by the libFuzzer targets. A reader rejects bad input by throwing a
// seqcnn::Error subclass: that is an expected outcome and ends the input
// quietly. Any other exception escapes and terminates (a finding), as do
// crashes, sanitizer reports, timeouts and allocations past the limit.
// Inputs that are accepted must also satisfy the target's invariants;
// a broken one aborts with a message.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "seqcnn/errors.hpp"

namespace seqcnn::fuzz {

[[noreturn]] inline void invariant_broken(const char* what) {
  std::fprintf(stderr, "seqcnn fuzz: invariant broken: %s\n", what);
  std::abort();
}

inline void require(bool holds, const char* what) {
  if (!holds) invariant_broken(what);
}

inline std::string_view as_text(const unsigned char* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `body`; only seqcnn::Error (and its subclasses) counts as a clean rejection.
template <class Body>
int expect_only_seqcnn_errors(Body&& body) {
  try {
    body();
  } catch (const seqcnn::Error&) {
  }
  return 0;
}

}  // namespace seqcnn::fuzz
