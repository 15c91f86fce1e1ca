#include "e2e_report.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace seqcnn::bench {

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string fixed(double v, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

// JSON strings here are names and paths without control characters.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string mebibytes(int64_t bytes) { return bytes < 0 ? std::string("-") : fixed(static_cast<double>(bytes) / 1048576.0, 1) + " MiB"; }

std::string threads_text(int threads) { return threads > 0 ? std::to_string(threads) : std::string("all"); }

}  // namespace

double E2eResult::median_tokens_per_s() const { return median(epoch_tokens_per_s); }
double E2eResult::median_tokens_per_cpu_s() const { return median(epoch_tokens_per_cpu_s); }

void write_e2e_markdown(std::ostream& out, const E2eRunInfo& info, const std::vector<E2eResult>& results) {
  out << "### End to end, " << info.device << "\n\n";
  out << "- date " << info.date << ", commit " << info.commit << ", threads " << threads_text(info.threads) << ", "
      << info.warmup_epochs << " warm-up + " << info.epochs
      << " measured epochs per run (median of the measured epochs' training-step throughput)\n\n";
  out << "| data | tokens/epoch | model | params | layout | batch | steps/epoch | tokens/s | tokens/CPU-s | padding waste "
         "| peak host RSS | same, training | peak device memory |\n";
  out << "|---|---:|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const E2eResult& r : results) {
    out << "| " << r.data << " | " << r.tokens_per_epoch << " | " << r.model << " | " << r.parameters << " | "
        << r.layout << " | " << r.batch << " | " << r.steps_per_epoch << " | " << fixed(r.median_tokens_per_s(), 0)
        << " | " << fixed(r.median_tokens_per_cpu_s(), 0) << " | " << fixed(100.0 * r.padding_waste, 1) << "% | "
        << mebibytes(r.peak_host_rss_bytes) << " | " << mebibytes(r.training_peak_host_rss_bytes) << " | "
        << mebibytes(r.peak_device_bytes) << " |\n";
  }
  out << "\n";
}

void write_e2e_csv(std::ostream& out, const E2eRunInfo& info, const std::vector<E2eResult>& results) {
  out << "device,date,commit,threads,data,tokens_per_epoch,records,model,parameters,layout,batch,steps_per_epoch,"
         "measured_epochs,tokens_per_s_median,tokens_per_s_min,tokens_per_s_max,tokens_per_cpu_s_median,padding_waste,"
         "peak_host_rss_bytes,training_peak_host_rss_bytes,peak_device_bytes\n";
  for (const E2eResult& r : results) {
    const auto [lo, hi] = std::minmax_element(r.epoch_tokens_per_s.begin(), r.epoch_tokens_per_s.end());
    const bool any = !r.epoch_tokens_per_s.empty();
    out << r.device << ',' << info.date << ',' << info.commit << ',' << threads_text(info.threads) << ',' << r.data
        << ',' << r.tokens_per_epoch << ',' << r.records << ',' << r.model << ',' << r.parameters << ',' << r.layout
        << ',' << r.batch << ',' << r.steps_per_epoch << ',' << r.epoch_tokens_per_s.size() << ','
        << fixed(r.median_tokens_per_s(), 1) << ',' << (any ? fixed(*lo, 1) : "") << ',' << (any ? fixed(*hi, 1) : "")
        << ',' << fixed(r.median_tokens_per_cpu_s(), 1) << ',' << fixed(r.padding_waste, 5) << ','
        << r.peak_host_rss_bytes << ',' << r.training_peak_host_rss_bytes << ',' << r.peak_device_bytes << '\n';
  }
}

void write_e2e_json(std::ostream& out, const E2eRunInfo& info, const std::vector<E2eResult>& results) {
  out << "{\"info\": {\"device\": " << json_string(info.device) << ", \"date\": " << json_string(info.date)
      << ", \"commit\": " << json_string(info.commit) << ", \"threads\": " << info.threads
      << ", \"warmup_epochs\": " << info.warmup_epochs << ", \"epochs\": " << info.epochs << "},\n \"results\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const E2eResult& r = results[i];
    out << (i == 0 ? "\n  " : ",\n  ") << "{\"data\": " << json_string(r.data) << ", \"model\": "
        << json_string(r.model) << ", \"layout\": " << json_string(r.layout) << ", \"device\": "
        << json_string(r.device) << ", \"batch\": " << json_string(r.batch) << ", \"run_dir\": "
        << json_string(r.run_dir) << ", \"tokens_per_epoch\": " << r.tokens_per_epoch
        << ", \"records\": " << r.records << ", \"parameters\": " << r.parameters
        << ", \"steps_per_epoch\": " << r.steps_per_epoch << ", \"padding_waste\": " << fixed(r.padding_waste, 6)
        << ", \"tokens_per_s\": " << fixed(r.median_tokens_per_s(), 1)
        << ", \"tokens_per_cpu_s\": " << fixed(r.median_tokens_per_cpu_s(), 1)
        << ", \"peak_host_rss_bytes\": " << r.peak_host_rss_bytes
        << ", \"training_peak_host_rss_bytes\": " << r.training_peak_host_rss_bytes
        << ", \"peak_device_bytes\": " << r.peak_device_bytes
        << ", \"epoch_tokens_per_s\": [";
    for (size_t e = 0; e < r.epoch_tokens_per_s.size(); ++e)
      out << (e == 0 ? "" : ", ") << fixed(r.epoch_tokens_per_s[e], 1);
    out << "]}";
  }
  out << "\n]}\n";
}

}  // namespace seqcnn::bench
