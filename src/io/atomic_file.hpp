// Files that appear whole or not at all: written to a temporary file in the
// same directory, flushed, then renamed over the target.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace seqcnn {

// Calls write(out) on a temporary file beside `path`, then renames it into
// place. On any failure the temporary file is removed, the old file (if
// any) is untouched, and an Error naming `path` is thrown.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

inline void write_file_atomically(const std::string& path, std::string_view contents) {
  write_file_atomically(path, [&](std::ostream& out) { out.write(contents.data(), static_cast<std::streamsize>(contents.size())); });
}

}  // namespace seqcnn
