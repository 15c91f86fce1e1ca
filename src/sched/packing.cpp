#include "sched/packing.hpp"

#include <algorithm>
#include <limits>

namespace seqcnn::sched {

int64_t BatchFill::rows(int halo, BatchLayout layout) const {
  if (sequences == 0) return 0;
  if (layout == BatchLayout::Packed) return halo + residues + sequences * halo;
  return halo + sequences * (longest + halo);
}

int64_t BatchFill::rows_with(int64_t length, int halo, BatchLayout layout) const {
  BatchFill grown = *this;
  grown.add(length);
  return grown.rows(halo, layout);
}

void BatchFill::add(int64_t length) {
  ++sequences;
  residues += length;
  longest = std::max(longest, length);
}

std::vector<std::vector<int32_t>> pack_by_rows(const std::vector<int32_t>& order, const std::vector<int64_t>& lengths,
                                               int64_t budget_rows, int halo, BatchLayout layout, size_t window) {
  struct OpenBatch {
    std::vector<int32_t> records;
    BatchFill fill;
  };
  std::vector<std::vector<int32_t>> closed;
  std::vector<OpenBatch> open;
  window = std::max<size_t>(window, 1);

  for (int32_t record : order) {
    const int64_t length = lengths[static_cast<size_t>(record)];
    size_t best = open.size();
    int64_t best_free = std::numeric_limits<int64_t>::max();
    for (size_t b = 0; b < open.size(); ++b) {
      const int64_t free_rows = budget_rows - open[b].fill.rows_with(length, halo, layout);
      if (free_rows >= 0 && free_rows < best_free) {
        best = b;
        best_free = free_rows;
      }
    }
    if (best == open.size()) {
      if (open.size() == window) {
        // Close the fullest: it is the least likely to take another record.
        const auto fullest = std::max_element(open.begin(), open.end(), [&](const OpenBatch& a, const OpenBatch& b) {
          return a.fill.rows(halo, layout) < b.fill.rows(halo, layout);
        });
        closed.push_back(std::move(fullest->records));
        open.erase(fullest);
        best = open.size();
      }
      open.push_back(OpenBatch{});
    }
    open[best].records.push_back(record);
    open[best].fill.add(length);
  }
  for (OpenBatch& b : open) closed.push_back(std::move(b.records));
  return closed;
}

}  // namespace seqcnn::sched
