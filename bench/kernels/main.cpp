// seqcnn_bench_kernels: every op of the engine over a sweep of shapes, with
// achieved bandwidth and flop rate against yardsticks measured in the same
// run, and the vendor library (cuDNN, cuBLAS) beside it on the GPU.
//
//   seqcnn_bench_kernels [--device cpu|cuda] [--quick] [--csv FILE] [--md FILE]
//                        [--threads N] [--filter TEXT] [--list]
//
// Exit status: 0 done, 1 a benchmark failed, 2 bad usage or no usable device.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bench_env.hpp"
#include "bench_result.hpp"
#include "kernel_cases.hpp"
#include "runners.hpp"
#include "seqcnn/errors.hpp"
#include "train/engine.hpp"

namespace {

using namespace seqcnn::bench;

// Cases after CPU scaling can coincide (the row cap); keep the first of each.
std::vector<KernelCase> without_duplicates(const std::vector<KernelCase>& cases) {
  std::set<std::tuple<int, std::string, int64_t, int64_t>> seen;
  std::vector<KernelCase> out;
  for (const KernelCase& c : cases)
    if (seen.insert({static_cast<int>(c.op), c.shape(), c.rows, c.params}).second) out.push_back(c);
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw seqcnn::Error("cannot write " + path);
  out << text;
  if (!out) throw seqcnn::Error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"seqcnn_bench_kernels: time every seqcnn op over a sweep of shapes"};
  std::string device = "cpu", csv_path, md_path, filter;
  bool quick = false, list = false;
  int threads = 0;
  app.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_flag("--quick", quick, "a few shapes, seconds (the smoke test); default is the full sweep");
  app.add_option("--csv", csv_path, "write the results as CSV to this file");
  app.add_option("--md", md_path, "write the markdown table to this file (it is always printed)");
  app.add_option("--threads", threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--filter", filter, "only ops whose name contains this text");
  app.add_flag("--list", list, "print the cases and exit");
  CLI11_PARSE(app, argc, argv);

  const bool gpu = device == "cuda";
  if (gpu) {
    std::string why;
    if (!seqcnn::cuda_available(&why) || !cuda_benchmarks_built()) {
      std::cerr << "seqcnn_bench_kernels: --device cuda needs a usable GPU: "
                << (why.empty() ? "this build has no CUDA backend" : why) << "\n";
      return 2;
    }
  }
  if (threads > 0) omp_set_num_threads(threads);

  std::vector<KernelCase> cases;
  for (KernelCase c : kernel_sweep(quick ? SweepSize::Quick : SweepSize::Full)) {
    if (!filter.empty() && std::string(op_name(c.op)).find(filter) == std::string::npos) continue;
    cases.push_back(gpu ? c : scale_for_cpu(c));
  }
  cases = without_duplicates(cases);
  if (list) {
    for (const KernelCase& c : cases)
      std::cout << op_name(c.op) << "\t" << c.sweep << "\t" << c.shape() << "\t" << c.rows << "\n";
    return 0;
  }

  RepPolicy policy;
  if (gpu) {
    policy = quick ? RepPolicy{2, 3, 10, 0.05} : RepPolicy{2, 5, 25, 0.25};
  } else {
    policy = quick ? RepPolicy{1, 3, 5, 0.2} : RepPolicy{1, 3, 10, 0.5};
  }

  RunInfo info;
  info.device = device;
  info.date = utc_now_iso();
  info.commit = source_commit();
  info.sweep = quick ? "quick" : "full";
  info.threads = gpu ? 0 : omp_get_max_threads();
  if (!gpu) {
    std::ostringstream note;
    note << "CPU rows = GPU sweep rows / " << kCpuRowDivisor << ", lowered further so one call stays under "
         << kCpuFlopCap / 1e9 << " GFLOP (the rows column shows what ran); no cache flush between repetitions";
    info.notes = note.str();
  } else {
    info.notes = "L2 flushed before every timed call; median of CUDA-event times";
  }
  try {
    info.device_name = gpu ? cuda_device_name() : cpu_model_name();
    std::cerr << "seqcnn_bench_kernels: " << cases.size() << " cases on " << device << " (" << info.device_name
              << "), " << info.sweep << " sweep\n";
    const References refs = gpu ? measure_cuda_references(policy) : measure_cpu_references(policy);
    std::cerr << "  copy " << refs.copy_gb_per_s << " GB/s, GEMM " << refs.gemm_gflop_per_s << " GFLOP/s\n";
    const std::vector<ResultRow> rows =
        gpu ? run_cuda_cases(cases, policy, std::cerr) : run_cpu_cases(cases, policy, std::cerr);

    std::ostringstream md, csv;
    write_markdown(md, info, refs, rows);
    write_csv(csv, info, refs, rows);
    std::cout << md.str();
    if (!md_path.empty()) write_file(md_path, md.str());
    if (!csv_path.empty()) write_file(csv_path, csv.str());
    int failed = 0;
    for (const ResultRow& r : rows) failed += r.error.empty() ? 0 : 1;
    if (failed > 0) {
      std::cerr << "seqcnn_bench_kernels: " << failed << " of " << rows.size() << " cases failed\n";
      return 1;
    }
  } catch (const std::exception& e) {
    std::cerr << "seqcnn_bench_kernels: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
