// Files that appear whole or not at all: written to a temporary file in the
// same directory, flushed, then renamed over the target.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace seqcnn {

// Calls write(out) on a temporary file beside `path` ("<path>.tmp.<pid>"),
// syncs it to disk, renames it into place and syncs the directory. On any
// failure (or exception from `write`) the temporary file is removed, the old
// file (if any) is untouched, and the error propagates. A process killed
// mid-write leaves the old file whole and at most a stray temporary file,
// which nothing reads and the next write of the same process replaces.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

inline void write_file_atomically(const std::string& path, std::string_view contents) {
  write_file_atomically(path, [&](std::ostream& out) { out.write(contents.data(), static_cast<std::streamsize>(contents.size())); });
}

}  // namespace seqcnn
