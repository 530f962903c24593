// safetensors parser. Layout: u64 little-endian header length N, N bytes of JSON (an object:
// tensor name -> {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional
// "__metadata__" string -> string map), then the byte buffer; offsets are relative to its start.
// JSON is parsed without exceptions (nlohmann's allow_exceptions = false) and every field's type
// is checked before it is read, so no nlohmann exception can be raised.
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "engine/io/byte_reader.h"
#include "engine/io/safetensors.h"
#include "engine/io/safetensors_dtype.h"

namespace sg {
namespace {

// Real headers are a few hundred KB even for sharded 400B models; the cap bounds JSON memory.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr uint64_t kHeaderLengthBytes = 8;

using Json = nlohmann::ordered_json;  // keeps header order

struct Parsed {
  SafetensorsTensor tensor;
  uint64_t begin = 0;
  uint64_t end = 0;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& path, uint64_t buffer_bytes)
      : path_(path), buffer_bytes_(buffer_bytes) {}

  Status Error(const std::string& field, const std::string& what) const {
    return DataLossError(path_ + ": " + field + ": " + what);
  }

  // Reads a non-negative JSON integer that fits int64.
  static bool GetCount(const Json& j, uint64_t* out) {
    if (!j.is_number_unsigned()) return false;
    *out = j.get<uint64_t>();
    return *out <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  }

  Status ParseTensor(const std::string& name, const Json& entry, Parsed* out) {
    const std::string field = "tensor '" + name + "'";
    if (!entry.is_object()) return Error(field, "entry is not a JSON object");
    auto dtype_it = entry.find("dtype");
    auto shape_it = entry.find("shape");
    auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string()) {
      return Error(field, "missing or non-string \"dtype\"");
    }
    if (shape_it == entry.end() || !shape_it->is_array()) {
      return Error(field, "missing or non-array \"shape\"");
    }
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
      return Error(field, "\"data_offsets\" must be an array of two integers");
    }
    const std::string& dtype_name = dtype_it->get_ref<const std::string&>();
    std::optional<DType> dtype = SafetensorsDTypeFromString(dtype_name);
    if (!dtype) {
      if (IsKnownUnsupportedSafetensorsDType(dtype_name)) {
        return UnimplementedError(path_ + ": " + field + ": dtype " + dtype_name +
                                  " is not supported; safetensors weights must be F32, F16 or "
                                  "BF16 (for a quantized model, use a GGUF file)");
      }
      return Error(field, "unknown dtype \"" + dtype_name + "\"");
    }
    SafetensorsTensor& t = out->tensor;
    t.name = name;
    t.type = *dtype;
    uint64_t numel = 1;
    for (const Json& dim : *shape_it) {
      uint64_t d = 0;
      if (!GetCount(dim, &d)) return Error(field, "shape entries must be non-negative integers");
      if (!CheckedMul(numel, d, &numel)) return Error(field, "element count overflows");
      t.shape.push_back(static_cast<int64_t>(d));
    }
    uint64_t nbytes = 0;
    if (!CheckedMul(numel, GetDTypeInfo(t.type).block_bytes, &nbytes)) {
      return Error(field, "byte size overflows");
    }
    if (!GetCount((*offsets_it)[0], &out->begin) || !GetCount((*offsets_it)[1], &out->end)) {
      return Error(field, "\"data_offsets\" must be an array of two integers");
    }
    if (out->begin > out->end) {
      return Error(field, "data_offsets begin " + std::to_string(out->begin) + " > end " +
                              std::to_string(out->end));
    }
    if (out->end > buffer_bytes_) {
      return Error(field, "data_offsets end " + std::to_string(out->end) +
                              " exceeds the data buffer of " + std::to_string(buffer_bytes_) +
                              " bytes");
    }
    if (out->end - out->begin != nbytes) {
      return Error(field, "data_offsets span " + std::to_string(out->end - out->begin) +
                              " bytes but shape " + ShapeToString(t.shape) + " of " + dtype_name +
                              " needs " + std::to_string(nbytes));
    }
    return OkStatus();
  }

 private:
  const std::string& path_;
  uint64_t buffer_bytes_;
};

}  // namespace

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  SG_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::Open(path));
  return Parse(std::move(file));
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Parse(
    std::shared_ptr<MappedFile> file) {
  std::unique_ptr<SafetensorsFile> st(new SafetensorsFile());
  st->file_ = std::move(file);
  const MappedFile& mf = *st->file_;
  const std::string& path = mf.path();
  auto error = [&](const std::string& field, const std::string& what) {
    return DataLossError(path + ": " + field + ": " + what);
  };

  ByteReader reader(mf.data(), mf.size());
  uint64_t header_bytes = 0;
  if (!reader.Read(&header_bytes)) {
    return error("header length", "file is " + std::to_string(mf.size()) +
                                      " bytes, too short for the 8-byte header length");
  }
  if (header_bytes > kMaxHeaderBytes) {
    return error("header length", std::to_string(header_bytes) + " exceeds the limit of " +
                                      std::to_string(kMaxHeaderBytes) + " bytes");
  }
  std::string_view header;
  if (!reader.ReadBytes(header_bytes, &header)) {
    return error("header length", std::to_string(header_bytes) + " exceeds the " +
                                      std::to_string(reader.remaining()) +
                                      " bytes after it in the file");
  }
  const uint64_t buffer_start = kHeaderLengthBytes + header_bytes;
  const uint64_t buffer_bytes = mf.size() - buffer_start;

  Json json = Json::parse(header.begin(), header.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return error("header", "invalid JSON");
  if (!json.is_object()) return error("header", "not a JSON object");

  HeaderParser parser(path, buffer_bytes);
  std::vector<Parsed> parsed;
  parsed.reserve(json.size());
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) return error("__metadata__", "not a JSON object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) {
          return error("__metadata__", "value of '" + m.key() + "' is not a string");
        }
        st->metadata_[m.key()] = m.value().get_ref<const std::string&>();
      }
      continue;
    }
    Parsed p;
    SG_RETURN_IF_ERROR(parser.ParseTensor(it.key(), it.value(), &p));
    parsed.push_back(std::move(p));
  }

  // Overlap check on non-empty tensors, in offset order.
  std::vector<const Parsed*> by_offset;
  for (const Parsed& p : parsed) {
    if (p.end > p.begin) by_offset.push_back(&p);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Parsed* a, const Parsed* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i - 1]->end > by_offset[i]->begin) {
      return error("tensor '" + by_offset[i]->tensor.name + "'",
                   "data_offsets [" + std::to_string(by_offset[i]->begin) + ", " +
                       std::to_string(by_offset[i]->end) + ") overlap tensor '" +
                       by_offset[i - 1]->tensor.name + "'");
    }
  }

  st->tensors_.reserve(parsed.size());
  for (Parsed& p : parsed) {
    SafetensorsTensor& t = p.tensor;
    t.view.type = t.type;
    t.view.shape = t.shape;
    t.view.data = mf.data() + buffer_start + p.begin;
    t.view.nbytes = p.end - p.begin;
    st->tensors_.push_back(std::move(t));
  }
  return st;
}

}  // namespace sg
