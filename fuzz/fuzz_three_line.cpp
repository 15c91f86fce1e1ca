// The 3-line reader (header, sequence, labels), then the mapping a run applies.
#include "reader_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  using namespace seqcnn;
  return fuzz::expect_only_seqcnn_errors([&] {
    const std::vector<RawRecord> records = parse_raw(fuzz::as_text(data, size), InputFormat::ThreeLine, "fuzz.ss3.txt");
    fuzz::check_raw_records(records, true);
    fuzz::check_mapped(records, Vocabulary::protein(), true);
  });
}
