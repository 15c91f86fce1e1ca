// Facts every benchmark report records: when it ran and on which commit.
#pragma once

#include <string>

namespace seqcnn::bench {

// UTC time, ISO 8601 to the second.
std::string utc_now_iso();

// `git describe --always --dirty` of the source tree the program was built
// from, or "unknown" when git or the tree is not there.
std::string source_commit();

}  // namespace seqcnn::bench
