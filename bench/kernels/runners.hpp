// The two benchmark back ends. Each measures its yardsticks (copy bandwidth,
// GEMM rate) and then every case, printing one progress line per case to
// `log`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "bench_result.hpp"
#include "kernel_cases.hpp"

namespace seqcnn::bench {

References measure_cpu_references(const RepPolicy& policy);
std::vector<ResultRow> run_cpu_cases(const std::vector<KernelCase>& cases, const RepPolicy& policy,
                                     std::ostream& log);
std::string cpu_model_name();

// The GPU back end exists only in CUDA builds; cuda_benchmarks_built()
// says whether this one has it.
bool cuda_benchmarks_built();
References measure_cuda_references(const RepPolicy& policy);
std::vector<ResultRow> run_cuda_cases(const std::vector<KernelCase>& cases, const RepPolicy& policy,
                                      std::ostream& log);
std::string cuda_device_name();

}  // namespace seqcnn::bench
