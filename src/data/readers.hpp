// The text formats seqcnn reads, each parsed into unmapped RawRecords.
// All of them reject binary data and report errors as
// file:line: record 'id', position N: what.
#pragma once

#include <string_view>
#include <vector>

#include "seqcnn/dataset.hpp"

namespace seqcnn::data {

// ">id" line, sequence line, labels line per record (labels one symbol per residue).
std::vector<RawRecord> parse_three_line(std::string_view text, std::string_view source);

// ">id" line, then one or more sequence lines; unlabelled.
std::vector<RawRecord> parse_fasta(std::string_view text, std::string_view source);

// Token in the first column, tag in the last; a blank line ends a sentence.
std::vector<RawRecord> parse_conll(std::string_view text, std::string_view source);

}  // namespace seqcnn::data
