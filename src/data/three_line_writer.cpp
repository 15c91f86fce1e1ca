#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

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
  // Written beside the target and renamed, so readers never see half a file.
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(temp + ": cannot open for writing: " + std::strerror(errno));
      for (size_t i = 0; i < ids.size(); ++i) out << '>' << ids[i] << '\n' << sequences[i] << '\n' << labels[i] << '\n';
      out.flush();
      if (!out) throw Error(temp + ": write failed (disk full?)");
    }
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    if (ec) throw Error("cannot rename " + temp + " to " + path + ": " + ec.message());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

}  // namespace seqcnn
