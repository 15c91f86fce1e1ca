#include "synthetic_data.hpp"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <random>
#include <vector>

#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn::bench {
namespace {

// What the generator keeps of the template.
struct TemplateStats {
  std::vector<int64_t> lengths;
  std::vector<char> residues;         // distinct residue letters
  std::vector<double> residue_weight;  // their counts
  std::vector<char> classes;           // distinct label letters (no-label '-' excluded)
  std::vector<double> run_weight;      // runs of each class
  std::vector<double> mean_run;        // mean run length of each class
};

TemplateStats read_template(const std::string& path) {
  const std::vector<RawRecord> raw = read_raw(path, InputFormat::ThreeLine);
  if (raw.empty()) throw InputError(path + ": no records to take a length distribution from");
  std::map<char, double> residue_count;
  std::map<char, double> runs, run_rows;
  TemplateStats t;
  for (const RawRecord& r : raw) {
    t.lengths.push_back(static_cast<int64_t>(r.symbols.size()));
    for (const std::string& s : r.symbols) residue_count[s.at(0)] += 1.0;
    char previous = 0;
    for (const std::string& l : r.labels) {
      const char c = l.at(0);
      if (c == '-') {
        previous = 0;
        continue;
      }
      if (c != previous) runs[c] += 1.0;
      run_rows[c] += 1.0;
      previous = c;
    }
  }
  for (const auto& [letter, count] : residue_count) {
    t.residues.push_back(letter);
    t.residue_weight.push_back(count);
  }
  for (const auto& [label, count] : runs) {
    t.classes.push_back(label);
    t.run_weight.push_back(count);
    t.mean_run.push_back(run_rows[label] / count);
  }
  if (t.classes.empty()) throw InputError(path + ": no labels to take a class mix from");
  return t;
}

}  // namespace

std::string synthetic_file_name(const SyntheticSpec& spec) {
  return "synthetic-" + std::to_string(spec.min_tokens) + "-seed" + std::to_string(spec.seed) + "-" +
         std::filesystem::path(spec.template_path).stem().string() + ".txt";
}

std::string write_synthetic(const std::string& dir, const SyntheticSpec& spec) {
  std::filesystem::create_directories(dir);
  const std::string path = (std::filesystem::path(dir) / synthetic_file_name(spec)).string();
  if (std::filesystem::exists(path)) return path;  // same spec, same contents (written atomically)

  const TemplateStats t = read_template(spec.template_path);
  std::mt19937_64 rng(spec.seed);
  std::uniform_int_distribution<size_t> pick_length(0, t.lengths.size() - 1);
  std::discrete_distribution<size_t> pick_residue(t.residue_weight.begin(), t.residue_weight.end());
  std::discrete_distribution<size_t> pick_class(t.run_weight.begin(), t.run_weight.end());
  std::vector<std::string> ids, sequences, labels;
  int64_t tokens = 0;
  while (tokens < spec.min_tokens) {
    const int64_t length = t.lengths[pick_length(rng)];
    std::string seq(static_cast<size_t>(length), 'X'), lab(static_cast<size_t>(length), 'C');
    for (char& ch : seq) ch = t.residues[pick_residue(rng)];
    for (int64_t i = 0; i < length;) {
      const size_t c = pick_class(rng);
      // Geometric run lengths with the template's mean for this class.
      std::geometric_distribution<int64_t> run(1.0 / t.mean_run[c]);
      const int64_t end = std::min(length, i + 1 + run(rng));
      for (; i < end; ++i) lab[static_cast<size_t>(i)] = t.classes[c];
    }
    ids.push_back("synthetic_" + std::to_string(ids.size() + 1));
    sequences.push_back(std::move(seq));
    labels.push_back(std::move(lab));
    tokens += length;
  }
  write_three_line(path, ids, sequences, labels);
  return path;
}

std::string make_temp_dir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) throw Error("cannot create a temporary directory " + pattern);
  return pattern;
}

}  // namespace seqcnn::bench
