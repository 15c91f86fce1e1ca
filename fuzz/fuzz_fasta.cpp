// The FASTA reader (multi-line sequences, no labels), then the mapping predict applies.
#include "reader_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  using namespace seqcnn;
  return fuzz::expect_only_seqcnn_errors([&] {
    const std::vector<RawRecord> records = parse_raw(fuzz::as_text(data, size), InputFormat::Fasta, "fuzz.fasta");
    fuzz::check_raw_records(records, false);
    fuzz::check_mapped(records, Vocabulary::protein(), false);
  });
}
