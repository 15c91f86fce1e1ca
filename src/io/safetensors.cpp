#include "io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/atomic_file.hpp"
#include "seqcnn/errors.hpp"

namespace seqcnn {

using json = nlohmann::json;
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;

int64_t dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "U8") return 1;
  return 0;
}

template <class T>
std::vector<T> convert(const StTensor& t) {
  const int64_t n = t.elements();
  std::vector<T> out(static_cast<size_t>(n));
  const unsigned char* p = t.bytes.data();
  for (int64_t i = 0; i < n; ++i) {
    if (t.dtype == "F32") { float x; std::memcpy(&x, p + 4 * i, 4); out[i] = static_cast<T>(x); }
    else if (t.dtype == "F64") { double x; std::memcpy(&x, p + 8 * i, 8); out[i] = static_cast<T>(x); }
    else if (t.dtype == "I32") { int32_t x; std::memcpy(&x, p + 4 * i, 4); out[i] = static_cast<T>(x); }
    else if (t.dtype == "I64") { int64_t x; std::memcpy(&x, p + 8 * i, 8); out[i] = static_cast<T>(x); }
    else if (t.dtype == "U8") { out[i] = static_cast<T>(p[i]); }
    else throw Error("tensor '" + t.name + "' has unsupported dtype " + t.dtype);
  }
  return out;
}

}  // namespace

int64_t StTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}
std::vector<float> StTensor::as_floats() const { return convert<float>(*this); }
std::vector<double> StTensor::as_doubles() const { return convert<double>(*this); }
std::vector<int64_t> StTensor::as_ints() const {
  if (dtype != "I32" && dtype != "I64" && dtype != "U8") throw Error("tensor '" + name + "' is " + dtype + ", expected an integer dtype");
  return convert<int64_t>(*this);
}

const StTensor* StFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}
const StTensor& StFile::at(const std::string& name) const {
  if (const StTensor* t = find(name)) return *t;
  throw Error("no tensor named '" + name + "'");
}

StFile parse_safetensors(std::span<const unsigned char> bytes, const std::string& source) {
  auto bad = [&](const std::string& what) -> CheckpointError { return CheckpointError(source + ": " + what); };
  if (bytes.size() < 8) throw bad("truncated: " + std::to_string(bytes.size()) + " bytes, shorter than the 8-byte header length");
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > kMaxHeaderBytes) throw bad("header length " + std::to_string(header_len) + " exceeds the 100 MiB limit");
  if (header_len > bytes.size() - 8)
    throw bad("truncated: header claims " + std::to_string(header_len) + " bytes, the file has " + std::to_string(bytes.size() - 8) + " after the length");
  const uint64_t data_begin = 8 + header_len;
  const uint64_t data_size = bytes.size() - data_begin;
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + static_cast<std::ptrdiff_t>(data_begin));
  } catch (const json::exception& e) {
    throw bad(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw bad("header is not a JSON object");
  StFile file;
  struct Span { uint64_t begin, end; size_t index; };
  std::vector<Span> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw bad("__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw bad("metadata value '" + m.key() + "' is not a string");
        file.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const json& e = *it;
    const std::string name = it.key();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      throw bad("tensor '" + name + "' lacks dtype, shape or data_offsets");
    if (!e["dtype"].is_string()) throw bad("tensor '" + name + "' dtype is not a string");
    StTensor t;
    t.name = name;
    t.dtype = e["dtype"].get<std::string>();
    const int64_t elem = dtype_size(t.dtype);
    if (elem == 0) throw bad("tensor '" + name + "' has unsupported dtype " + t.dtype);
    if (!e["shape"].is_array()) throw bad("tensor '" + name + "' shape is not an array");
    uint64_t count = 1;
    for (const json& d : e["shape"]) {
      if (!d.is_number_unsigned()) throw bad("tensor '" + name + "' has a negative or non-integer dimension");
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / dim / 8) throw bad("tensor '" + name + "' is impossibly large");
      count *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const json& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw bad("tensor '" + name + "' data_offsets must be two non-negative integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size)
      throw bad("tensor '" + name + "' data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                ") fall outside the " + std::to_string(data_size) + "-byte data section (truncated file?)");
    if (end - begin != count * static_cast<uint64_t>(elem))
      throw bad("tensor '" + name + "' has " + std::to_string(end - begin) + " bytes, its shape and dtype need " +
                std::to_string(count * static_cast<uint64_t>(elem)));
    spans.push_back({begin, end, file.tensors.size()});
    file.tensors.push_back(std::move(t));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  uint64_t expected = 0;
  std::vector<StTensor> ordered;
  for (const Span& s : spans) {
    StTensor& t = file.tensors[s.index];
    if (s.begin != expected) throw bad("tensor '" + t.name + "' overlaps another or leaves a hole at byte " + std::to_string(expected));
    expected = s.end;
    t.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_begin + s.begin),
                   bytes.begin() + static_cast<std::ptrdiff_t>(data_begin + s.end));
    ordered.push_back(std::move(t));
  }
  if (expected != data_size) throw bad("data section has " + std::to_string(data_size - expected) + " trailing bytes no tensor owns");
  file.tensors = std::move(ordered);
  return file;
}

StFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(path + ": cannot open for reading");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_safetensors(bytes, path);
}

void write_safetensors(const std::string& path, const StFile& file) {
  json header = json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  uint64_t offset = 0;
  for (const auto& t : file.tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data section 8-byte aligned
  const uint64_t len = text.size();
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : file.tensors) out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
  });
}

StTensor make_f32_tensor(std::string name, std::vector<int64_t> shape, const std::vector<float>& values) {
  StTensor t{std::move(name), "F32", std::move(shape), {}};
  t.bytes.resize(values.size() * 4);
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

uint64_t data_checksum(const StFile& file) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& t : file.tensors)
    for (unsigned char b : t.bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}

}  // namespace seqcnn
