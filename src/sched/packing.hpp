// Packs records, taken in a given order, into batches that fit a row budget.
#pragma once

#include <cstdint>
#include <vector>

#include "seqcnn/config.hpp"

namespace seqcnn::sched {

// Rows a growing batch needs, kept incrementally (see rows_needed).
struct BatchFill {
  int64_t sequences = 0, residues = 0, longest = 0;

  int64_t rows(int halo, BatchLayout layout) const;
  int64_t rows_with(int64_t length, int halo, BatchLayout layout) const;
  void add(int64_t length);
};

// Best fit over a small window of open batches: each record goes into the
// open batch it leaves the fewest free rows in; when none has room a new
// batch opens, and when the window is full the fullest batch is closed.
// The window keeps batches a mix of the order given (random when shuffled)
// while filling them almost completely. Batches come out in closing order.
// Every length + 2*halo must fit the budget (checked by the caller).
std::vector<std::vector<int32_t>> pack_by_rows(const std::vector<int32_t>& order, const std::vector<int64_t>& lengths,
                                               int64_t budget_rows, int halo, BatchLayout layout,
                                               size_t window = 8);

}  // namespace seqcnn::sched
