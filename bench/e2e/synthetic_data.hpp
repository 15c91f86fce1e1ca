// A large synthetic protein set with the length distribution of a real one:
// lengths drawn (with replacement) from the template's records, residues
// from its residue frequencies, and labels as runs of classes whose mean
// run lengths and class mix follow the template. Only the throughput of
// training is measured on it; nothing in it is learnable beyond the template's
// statistics.
#pragma once

#include <cstdint>
#include <string>

namespace seqcnn::bench {

struct SyntheticSpec {
  std::string template_path;  // a 3-line file (e.g. data/ss/train.ss3.txt)
  int64_t min_tokens = 10'000'000;
  uint64_t seed = 1;
};

// File name the spec's data gets inside a directory: the same spec always
// gives the same name and the same contents.
std::string synthetic_file_name(const SyntheticSpec& spec);

// Writes <dir>/<synthetic_file_name(spec)> (atomically) unless it is already
// there; returns its path. Creates `dir` when missing.
std::string write_synthetic(const std::string& dir, const SyntheticSpec& spec);

// A fresh directory under the system's temporary directory.
std::string make_temp_dir(const std::string& prefix);

}  // namespace seqcnn::bench
