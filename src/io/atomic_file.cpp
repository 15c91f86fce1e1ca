#include "io/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "seqcnn/errors.hpp"

namespace seqcnn {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw Error("cannot create directory '" + target.parent_path().string() + "' for " + path + ": " + ec.message());
  }
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error("cannot open '" + temp + "' for writing: " + std::strerror(errno));
      write(out);
      out.flush();
      if (!out) throw Error("writing '" + temp + "' failed (disk full?)");
    }
    std::error_code ec;
    fs::rename(temp, target, ec);
    if (ec) throw Error("cannot rename '" + temp + "' to '" + path + "': " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
}

}  // namespace seqcnn
