// What one benchmark run measured, and how it is written out (CSV and a
// markdown table).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "kernel_cases.hpp"

namespace seqcnn::bench {

// How many times a case runs: `warmup` untimed calls, then timed calls
// until at least min_reps and either max_reps or budget_seconds is reached.
struct RepPolicy {
  int warmup = 1;
  int min_reps = 3;
  int max_reps = 20;
  double budget_seconds = 0.3;
};

struct Timing {
  double median_ms = 0.0;
  double min_ms = 0.0;
  int reps = 0;
};

// Median over the samples (the mean of the middle two for an even count).
Timing summarize(std::vector<double> samples_ms);

struct ResultRow {
  KernelCase c;
  Work work;
  Timing ours;
  // The vendor library on the same shape (cuDNN for conv, cuBLAS for dense);
  // baseline.reps == 0 when there is none.
  Timing baseline;
  std::string baseline_name;
  std::string note;
  std::string error;  // non-empty: the case failed (ours.reps == 0)
};

// Rates measured in the same run, the yardsticks for every row.
struct References {
  double copy_gb_per_s = 0.0;  // bytes read + written per second by a plain copy
  std::string copy_what;
  double gemm_gflop_per_s = 0.0;
  std::string gemm_what;
};

struct RunInfo {
  std::string device;       // "cpu" or "cuda"
  std::string device_name;  // CPU model or GPU name
  std::string date;         // UTC, ISO 8601
  std::string commit;
  std::string sweep;        // "quick" or "full"
  int threads = 0;
  std::string notes;        // e.g. how CPU rows were scaled
};

void write_csv(std::ostream& out, const RunInfo& info, const References& refs, const std::vector<ResultRow>& rows);
void write_markdown(std::ostream& out, const RunInfo& info, const References& refs,
                    const std::vector<ResultRow>& rows);

}  // namespace seqcnn::bench
