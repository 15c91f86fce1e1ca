// The safetensors container: 8-byte little-endian header length, a JSON
// header (dtype, shape, data_offsets per tensor, string metadata), then the
// raw little-endian tensor bytes. The reader validates every size and
// offset before touching data, so a hostile file cannot make it read or
// allocate out of bounds.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace seqcnn {

struct StTensor {
  std::string name;
  std::string dtype;  // "F32", "F64", "I32", "I64", "U8"
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;

  int64_t elements() const;
  // Converting readers; an Error names the tensor when the dtype cannot convert.
  std::vector<float> as_floats() const;
  std::vector<double> as_doubles() const;
  std::vector<int64_t> as_ints() const;
};

struct StFile {
  std::map<std::string, std::string> metadata;
  std::vector<StTensor> tensors;  // in data-offset order
  const StTensor* find(const std::string& name) const;
  const StTensor& at(const std::string& name) const;  // Error naming the tensor when absent
};

// Throws CheckpointError naming the file and the fault.
StFile read_safetensors(const std::string& path);
StFile parse_safetensors(std::span<const unsigned char> file_bytes, const std::string& source);

// Written atomically (temporary file, then rename).
void write_safetensors(const std::string& path, const StFile& file);

StTensor make_f32_tensor(std::string name, std::vector<int64_t> shape, const std::vector<float>& values);

// FNV-1a 64 over the data section, stored in metadata to detect corruption.
uint64_t data_checksum(const StFile& file);

}  // namespace seqcnn
