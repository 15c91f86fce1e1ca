// Results of the end-to-end benchmark and how they are written out
// (markdown table, CSV, JSON for the comparison driver).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace seqcnn::bench {

struct E2eRunInfo {
  std::string device, date, commit;
  int threads = 0;  // 0: all cores
  int warmup_epochs = 0, epochs = 0;
};

struct E2eResult {
  std::string data, model, layout, device, batch, run_dir;
  int64_t tokens_per_epoch = 0, records = 0, parameters = 0, steps_per_epoch = 0, steps = 0;
  int threads = 0;
  std::vector<double> epoch_tokens_per_s;      // measured epochs only
  std::vector<double> epoch_tokens_per_cpu_s;  // the same per CPU-second of the process (all threads)
  double padding_waste = 0.0;              // mean over all epochs' plans
  // Peak host RSS of the process up to the end of this run (a per-run figure
  // when the process runs one configuration, as run_e2e.py does), and its
  // peak while training (from the trainer's creation on, the data resident);
  // peak device memory in use by this run's trainer. -1: not measured.
  int64_t peak_host_rss_bytes = -1, training_peak_host_rss_bytes = -1, peak_device_bytes = -1;

  double median_tokens_per_s() const;
  double median_tokens_per_cpu_s() const;
};

void write_e2e_markdown(std::ostream& out, const E2eRunInfo& info, const std::vector<E2eResult>& results);
void write_e2e_csv(std::ostream& out, const E2eRunInfo& info, const std::vector<E2eResult>& results);
// One JSON object: {"info": {...}, "results": [{...}, ...]}.
void write_e2e_json(std::ostream& out, const E2eRunInfo& info, const std::vector<E2eResult>& results);

}  // namespace seqcnn::bench
