#include "io/atomic_file.hpp"
#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

namespace {

bool single_line(const std::string& s) { return s.find_first_of("\r\n") == std::string::npos; }

void check_records(const std::string& path, const std::vector<std::string>& ids, const std::vector<std::string>& sequences,
                   const std::vector<std::string>& labels) {
  if (sequences.size() != ids.size() || labels.size() != ids.size()) {
    throw InputError(path + ": cannot write " + std::to_string(ids.size()) + " ids with " + std::to_string(sequences.size()) +
                     " sequences and " + std::to_string(labels.size()) + " label lines");
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string where = path + ": record " + std::to_string(i) + " ('" + ids[i] + "'): ";
    if (ids[i].empty() || !single_line(ids[i])) throw InputError(where + "the id must be one non-empty line");
    if (sequences[i].empty() || !single_line(sequences[i])) throw InputError(where + "the sequence must be one non-empty line");
    if (labels[i].size() != sequences[i].size() || !single_line(labels[i]))
      throw InputError(where + "the labels must be one line as long as the sequence (" + std::to_string(sequences[i].size()) +
                       "), got " + std::to_string(labels[i].size()));
  }
}

}  // namespace

void write_three_line(const std::string& path, const std::vector<std::string>& ids, const std::vector<std::string>& sequences,
                      const std::vector<std::string>& labels) {
  check_records(path, ids, sequences, labels);
  // "<path>.tmp.<pid>" renamed into place, so readers never see half a file.
  write_file_atomically(path, [&](std::ostream& out) {
    for (size_t i = 0; i < ids.size(); ++i) out << '>' << ids[i] << '\n' << sequences[i] << '\n' << labels[i] << '\n';
  });
}

}  // namespace seqcnn
