#include "bench_result.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <string>

namespace seqcnn::bench {

Timing summarize(std::vector<double> samples_ms) {
  Timing t;
  if (samples_ms.empty()) return t;
  std::sort(samples_ms.begin(), samples_ms.end());
  const size_t n = samples_ms.size();
  t.median_ms = n % 2 == 1 ? samples_ms[n / 2] : 0.5 * (samples_ms[n / 2 - 1] + samples_ms[n / 2]);
  t.min_ms = samples_ms.front();
  t.reps = static_cast<int>(n);
  return t;
}

namespace {

std::string number(double v, const char* format) {
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

// Achieved rates of one row.
struct Rates {
  double gb_per_s = 0.0, copy_fraction = 0.0, gflop_per_s = 0.0, gemm_fraction = 0.0;
};

Rates rates_of(const ResultRow& r, const References& refs) {
  Rates x;
  const double seconds = r.ours.median_ms * 1e-3;
  if (seconds <= 0.0) return x;
  x.gb_per_s = r.work.bytes / seconds * 1e-9;
  x.gflop_per_s = r.work.flops / seconds * 1e-9;
  if (refs.copy_gb_per_s > 0.0) x.copy_fraction = x.gb_per_s / refs.copy_gb_per_s;
  if (refs.gemm_gflop_per_s > 0.0) x.gemm_fraction = x.gflop_per_s / refs.gemm_gflop_per_s;
  return x;
}

// CSV fields never hold commas or quotes except in free text, which is quoted.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

}  // namespace

void write_csv(std::ostream& out, const RunInfo& info, const References& refs, const std::vector<ResultRow>& rows) {
  out << "device,device_name,date,commit,sweep_size,threads,op,sweep,shape,rows,params,median_ms,min_ms,reps,"
         "bytes,flops,gb_per_s,copy_gb_per_s,pct_of_copy,gflop_per_s,gemm_gflop_per_s,pct_of_gemm,baseline,"
         "baseline_median_ms,baseline_over_ours,note\n";
  for (const ResultRow& r : rows) {
    const Rates x = rates_of(r, refs);
    const bool has_base = r.baseline.reps > 0;
    out << info.device << ',' << quoted(info.device_name) << ',' << info.date << ',' << info.commit << ','
        << info.sweep << ',' << info.threads << ',' << op_name(r.c.op) << ',' << r.c.sweep << ',' << quoted(r.c.shape())
        << ',' << r.c.rows << ',' << r.c.params << ',' << number(r.ours.median_ms, "%.6g") << ','
        << number(r.ours.min_ms, "%.6g") << ',' << r.ours.reps << ',' << number(r.work.bytes, "%.6g") << ','
        << number(r.work.flops, "%.6g") << ',' << number(x.gb_per_s, "%.4g") << ','
        << number(refs.copy_gb_per_s, "%.4g") << ',' << number(100.0 * x.copy_fraction, "%.3g") << ','
        << number(x.gflop_per_s, "%.4g") << ',' << number(refs.gemm_gflop_per_s, "%.4g") << ','
        << number(100.0 * x.gemm_fraction, "%.3g") << ',' << quoted(r.baseline_name) << ','
        << (has_base ? number(r.baseline.median_ms, "%.6g") : std::string()) << ','
        << (has_base && r.ours.median_ms > 0 ? number(r.baseline.median_ms / r.ours.median_ms, "%.3g") : std::string())
        << ',' << quoted(r.error.empty() ? r.note : "FAILED: " + r.error) << '\n';
  }
}

void write_markdown(std::ostream& out, const RunInfo& info, const References& refs,
                    const std::vector<ResultRow>& rows) {
  out << "### Kernels, " << info.device << " (" << info.device_name << "), " << info.sweep << " sweep\n\n";
  out << "- date " << info.date << ", commit " << info.commit << ", threads " << info.threads << "\n";
  out << "- copy bandwidth " << number(refs.copy_gb_per_s, "%.1f") << " GB/s (" << refs.copy_what << ")\n";
  out << "- GEMM rate " << number(refs.gemm_gflop_per_s, "%.1f") << " GFLOP/s (" << refs.gemm_what << ")\n";
  if (!info.notes.empty()) out << "- " << info.notes << "\n";
  out << "\n| op | sweep | shape | rows | median ms | GB/s | % copy | GFLOP/s | % GEMM | baseline | baseline ms | "
         "baseline/ours |\n";
  out << "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|\n";
  for (const ResultRow& r : rows) {
    if (!r.error.empty()) {
      out << "| " << op_name(r.c.op) << " | " << r.c.sweep << " | " << r.c.shape() << " | " << r.c.rows
          << " | FAILED: " << r.error << " | | | | | | | |\n";
      continue;
    }
    const Rates x = rates_of(r, refs);
    const bool has_base = r.baseline.reps > 0;
    const std::string rows_text = r.c.op == Op::AdamW ? std::string("-") : std::to_string(r.c.rows);
    out << "| " << op_name(r.c.op) << " | " << r.c.sweep << " | " << r.c.shape() << " | " << rows_text << " | "
        << number(r.ours.median_ms, "%.4g") << " | " << number(x.gb_per_s, "%.1f") << " | "
        << number(100.0 * x.copy_fraction, "%.0f") << " | "
        << (r.work.flops > 0 ? number(x.gflop_per_s, "%.1f") : std::string("-")) << " | "
        << (r.work.flops > 0 ? number(100.0 * x.gemm_fraction, "%.1f") : std::string("-")) << " | "
        << (has_base ? r.baseline_name : std::string("-")) << " | "
        << (has_base ? number(r.baseline.median_ms, "%.4g") : std::string("-")) << " | "
        << (has_base && r.ours.median_ms > 0 ? number(r.baseline.median_ms / r.ours.median_ms, "%.2f")
                                             : std::string("-"))
        << " |\n";
  }
  out << "\n";
}

}  // namespace seqcnn::bench
