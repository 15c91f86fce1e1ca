#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "seqcnn/errors.hpp"

namespace seqcnn {

namespace {

// Forces `path` (a file or a directory) to disk, so a crash right after the
// rename finds the new contents, not an empty file. Best effort on file
// systems that do not support it.
void sync_to_disk(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0 && !directory && saved != EINVAL && saved != ENOTSUP)
    throw Error("cannot flush '" + path + "' to disk: " + std::strerror(saved));
}

}  // namespace

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
      out.close();
      if (!out) throw Error("writing '" + temp + "' failed (disk full?)");
    }
    sync_to_disk(temp, false);
    std::error_code ec;
    fs::rename(temp, target, ec);
    if (ec) throw Error("cannot rename '" + temp + "' to '" + path + "': " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  sync_to_disk(target.has_parent_path() ? target.parent_path().string() : ".", true);
}

}  // namespace seqcnn
