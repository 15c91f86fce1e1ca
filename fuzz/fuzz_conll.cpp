// The CoNLL reader (token and tag columns, blank-line sentences), then a
// token vocabulary built from it as training does.
#include "reader_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  using namespace seqcnn;
  return fuzz::expect_only_seqcnn_errors([&] {
    const std::vector<RawRecord> records = parse_raw(fuzz::as_text(data, size), InputFormat::Conll, "fuzz.conll");
    fuzz::check_raw_records(records, true);
    std::vector<std::string> tokens;
    for (const RawRecord& r : records) tokens.insert(tokens.end(), r.symbols.begin(), r.symbols.end());
    const Vocabulary vocab = Vocabulary::from_tokens(tokens, 1);
    fuzz::check_mapped(records, vocab, true);
  });
}
