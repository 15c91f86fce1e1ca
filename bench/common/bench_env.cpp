#include "bench_env.hpp"

#include <cstdio>
#include <ctime>

namespace seqcnn::bench {

std::string utc_now_iso() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string source_commit() {
  const std::string command = std::string("git -C '") + SEQCNN_SOURCE_DIR + "' describe --always --dirty 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "unknown";
  char line[128] = {0};
  std::string out;
  if (std::fgets(line, sizeof line, pipe) != nullptr) out = line;
  pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? "unknown" : out;
}

}  // namespace seqcnn::bench
