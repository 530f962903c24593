// GGUF v2/v3 parser. Layout (all little-endian):
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count,
//   kv_count x { string key, u32 type, value },
//   tensor_count x { string name, u32 n_dims, n_dims x i64 ne (innermost first), u32 ggml_type,
//                    u64 offset (relative to the data section) },
//   padding to general.alignment (default 32), then the data section.
// A string is u64 byte length + bytes; an array is u32 element type + u64 count + elements.
// Every count is checked against the bytes left BEFORE anything is allocated for it.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>

#include "engine/io/byte_reader.h"
#include "engine/io/gguf.h"

namespace sg {
namespace {

// ggml type ids past the ones streamgen knows (ggml.h, 2025): the interleaved IQ4_NL layouts
// (36-38, since removed from ggml) and MXFP4 (39, gpt-oss). "" for any other id.
std::string_view NewerGgmlTypeName(uint32_t id) {
  switch (id) {
    case 36:
      return "IQ4_NL_4_4";
    case 37:
      return "IQ4_NL_4_8";
    case 38:
      return "IQ4_NL_8_8";
    case 39:
      return "MXFP4";
    default:
      return "";
  }
}

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8;  // nested arrays deeper than this are refused (stack bound)
constexpr uint32_t kMaxDims = 4;   // ggml's GGML_MAX_DIMS
// Smallest encodings, used to bound counts by the bytes left before allocating:
// a kv is key length (8) + type (4) + a 1-byte value; a tensor info is name length (8) +
// n_dims (4) + type (4) + offset (8).
constexpr uint64_t kMinKvBytes = 13;
constexpr uint64_t kMinTensorInfoBytes = 24;

bool IsKnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kFloat64); }

// Smallest encoded size of one value of `type` (strings and arrays: their length/header only).
uint64_t MinEncodedBytes(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
    case GgufType::kString:
      return 8;
    case GgufType::kArray:
      return 12;
  }
  return 1;
}

class Parser {
 public:
  explicit Parser(const MappedFile& file) : path_(file.path()), reader_(file.data(), file.size()) {}

  Status Error(const std::string& field, const std::string& what) const {
    return DataLossError(path_ + ": " + field + ": " + what);
  }
  Status Truncated(const std::string& field, uint64_t need) const {
    return Error(field, "truncated: need " + std::to_string(need) + " bytes at offset " +
                            std::to_string(reader_.pos()) + ", file size " +
                            std::to_string(reader_.size()));
  }

  template <typename T>
  Status Read(const std::string& field, T* out) {
    if (!reader_.Read(out)) return Truncated(field, sizeof(T));
    return OkStatus();
  }

  Status ReadString(const std::string& field, std::string* out) {
    uint64_t len = 0;
    // Field names are built only on error: this runs once per token of a 150k-entry vocabulary.
    if (!reader_.Read(&len)) return Truncated(field + ": string length", sizeof(len));
    std::string_view bytes;
    if (!reader_.ReadBytes(len, &bytes)) {
      return Error(field, "string length " + std::to_string(len) + " exceeds the " +
                              std::to_string(reader_.remaining()) + " bytes left in the file");
    }
    out->assign(bytes);
    return OkStatus();
  }

  // Reads one value of `type`; `depth` counts enclosing arrays.
  Status ReadValue(const std::string& field, GgufType type, int depth, GgufValue* out) {
    out->type = type;
    switch (type) {
      case GgufType::kUint8:
        return ReadWidened<uint8_t, uint64_t>(field, out);
      case GgufType::kInt8:
        return ReadWidened<int8_t, int64_t>(field, out);
      case GgufType::kUint16:
        return ReadWidened<uint16_t, uint64_t>(field, out);
      case GgufType::kInt16:
        return ReadWidened<int16_t, int64_t>(field, out);
      case GgufType::kUint32:
        return ReadWidened<uint32_t, uint64_t>(field, out);
      case GgufType::kInt32:
        return ReadWidened<int32_t, int64_t>(field, out);
      case GgufType::kUint64:
        return ReadWidened<uint64_t, uint64_t>(field, out);
      case GgufType::kInt64:
        return ReadWidened<int64_t, int64_t>(field, out);
      case GgufType::kFloat32:
        return ReadWidened<float, double>(field, out);
      case GgufType::kFloat64:
        return ReadWidened<double, double>(field, out);
      case GgufType::kBool: {
        uint8_t b = 0;
        SG_RETURN_IF_ERROR(Read(field, &b));
        if (b > 1) return Error(field, "bool value " + std::to_string(b) + " is not 0 or 1");
        out->value = b != 0;
        return OkStatus();
      }
      case GgufType::kString: {
        std::string s;
        SG_RETURN_IF_ERROR(ReadString(field, &s));
        out->value = std::move(s);
        return OkStatus();
      }
      case GgufType::kArray:
        return ReadArray(field, depth, out);
    }
    return Error(field, "unknown value type " + std::to_string(static_cast<uint32_t>(type)));
  }

  Status ReadArray(const std::string& field, int depth, GgufValue* out) {
    if (depth >= kMaxArrayDepth) {
      return Error(field, "arrays nested deeper than " + std::to_string(kMaxArrayDepth));
    }
    uint32_t elem_type = 0;
    uint64_t count = 0;
    if (!reader_.Read(&elem_type)) return Truncated(field + ": array element type", 4);
    if (!IsKnownType(elem_type)) {
      return Error(field, "unknown array element type " + std::to_string(elem_type));
    }
    if (!reader_.Read(&count)) return Truncated(field + ": array length", 8);
    GgufArray arr;
    arr.elem_type = static_cast<GgufType>(elem_type);
    const uint64_t min_bytes = MinEncodedBytes(arr.elem_type);
    if (count > reader_.remaining() / min_bytes) {
      return Error(field, "array length " + std::to_string(count) + " of " +
                              GgufTypeName(arr.elem_type) + " exceeds the " +
                              std::to_string(reader_.remaining()) + " bytes left in the file");
    }
    arr.items.resize(static_cast<size_t>(count));
    for (GgufValue& item : arr.items) {
      SG_RETURN_IF_ERROR(ReadValue(field, arr.elem_type, depth + 1, &item));
    }
    out->value = std::move(arr);
    return OkStatus();
  }

  Status ParseHeader(uint32_t* version, uint64_t* tensor_count, uint64_t* kv_count) {
    uint32_t magic = 0;
    if (!reader_.Read(&magic)) return Error("magic", "file is too short to be GGUF");
    if (magic != kGgufMagic) return Error("magic", "not a GGUF file (expected \"GGUF\")");
    SG_RETURN_IF_ERROR(Read("version", version));
    if (*version == 1) {
      return Error("version", "GGUF v1 is not supported (only v2 and v3); re-convert the model");
    }
    if (*version != 2 && *version != 3) {
      std::string what = "unsupported version " + std::to_string(*version);
      if ((*version & 0xffff) == 0) what += " (big-endian files are not supported)";
      return Error("version", what);
    }
    SG_RETURN_IF_ERROR(Read("tensor_count", tensor_count));
    SG_RETURN_IF_ERROR(Read("kv_count", kv_count));
    if (*kv_count > reader_.remaining() / kMinKvBytes) {
      return Error("kv_count", std::to_string(*kv_count) + " entries cannot fit in the " +
                                   std::to_string(reader_.remaining()) + " bytes left");
    }
    if (*tensor_count > reader_.remaining() / kMinTensorInfoBytes) {
      return Error("tensor_count", std::to_string(*tensor_count) +
                                       " tensor infos cannot fit in the " +
                                       std::to_string(reader_.remaining()) + " bytes left");
    }
    return OkStatus();
  }

  Status ParseMetadata(uint64_t kv_count, std::vector<GgufKeyValue>* out) {
    out->reserve(static_cast<size_t>(kv_count));
    std::unordered_set<std::string> seen;
    for (uint64_t i = 0; i < kv_count; ++i) {
      GgufKeyValue kv;
      SG_RETURN_IF_ERROR(ReadString("kv " + std::to_string(i) + ": key", &kv.key));
      const std::string field = "key '" + kv.key + "'";
      if (!seen.insert(kv.key).second) return Error(field, "duplicate key");
      uint32_t type = 0;
      SG_RETURN_IF_ERROR(Read(field + ": type", &type));
      if (!IsKnownType(type)) return Error(field, "unknown value type " + std::to_string(type));
      SG_RETURN_IF_ERROR(ReadValue(field, static_cast<GgufType>(type), 0, &kv.value));
      out->push_back(std::move(kv));
    }
    return OkStatus();
  }

  Status ParseTensorInfo(uint64_t index, GgufTensorInfo* info) {
    SG_RETURN_IF_ERROR(ReadString("tensor " + std::to_string(index) + ": name", &info->name));
    const std::string field = "tensor '" + info->name + "'";
    uint32_t n_dims = 0;
    SG_RETURN_IF_ERROR(Read(field + ": n_dims", &n_dims));
    if (n_dims > kMaxDims) {
      return Error(field,
                   "n_dims " + std::to_string(n_dims) + " exceeds " + std::to_string(kMaxDims));
    }
    int64_t ne[kMaxDims] = {1, 1, 1, 1};
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      SG_RETURN_IF_ERROR(Read(field + ": ne[" + std::to_string(d) + "]", &ne[d]));
      if (ne[d] <= 0) {
        return Error(field, "ne[" + std::to_string(d) + "] = " + std::to_string(ne[d]) +
                                " must be positive");
      }
      if (!CheckedMul(numel, static_cast<uint64_t>(ne[d]), &numel) ||
          numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Error(field, "element count overflows");
      }
    }
    uint32_t type_id = 0;
    SG_RETURN_IF_ERROR(Read(field + ": type", &type_id));
    std::optional<DTypeInfo> dtype = LookupDType(type_id);
    if (!dtype) {
      std::string what = "unknown tensor type " + std::to_string(type_id);
      // ggml types newer than streamgen's table, named so the user knows what the file holds.
      if (std::string_view newer = NewerGgmlTypeName(type_id); !newer.empty()) {
        what += " (" + std::string(newer) + ", which streamgen does not support yet)";
      }
      return Error(field, what);
    }
    info->type = dtype->type;
    SG_RETURN_IF_ERROR(Read(field + ": offset", &info->offset));

    // ne[0] is the contiguous row; quantized rows hold whole blocks.
    std::optional<uint64_t> row_bytes = RowBytes(info->type, static_cast<uint64_t>(ne[0]));
    if (!row_bytes) {
      return Error(field, "ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " +
                              std::string(dtype->name) + " block size " +
                              std::to_string(dtype->block_elems));
    }
    const uint64_t rows = numel / static_cast<uint64_t>(ne[0]);
    if (!CheckedMul(*row_bytes, rows, &info->nbytes)) return Error(field, "byte size overflows");
    info->shape.assign(n_dims, 0);
    for (uint32_t d = 0; d < n_dims; ++d) info->shape[n_dims - 1 - d] = ne[d];
    return OkStatus();
  }

  uint64_t pos() const { return reader_.pos(); }

 private:
  template <typename Raw, typename Wide>
  Status ReadWidened(const std::string& field, GgufValue* out) {
    Raw raw{};
    SG_RETURN_IF_ERROR(Read(field, &raw));
    out->value = static_cast<Wide>(raw);
    return OkStatus();
  }

  const std::string& path_;
  ByteReader reader_;
};

}  // namespace

StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  SG_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::Open(path));
  return Parse(std::move(file));
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::Parse(std::shared_ptr<MappedFile> file) {
  std::unique_ptr<GgufFile> gguf(new GgufFile());
  gguf->file_ = std::move(file);
  const MappedFile& mf = *gguf->file_;
  Parser p(mf);
  auto error = [&](const std::string& field, const std::string& what) {
    return p.Error(field, what);
  };

  uint64_t tensor_count = 0, kv_count = 0;
  SG_RETURN_IF_ERROR(p.ParseHeader(&gguf->version_, &tensor_count, &kv_count));
  SG_RETURN_IF_ERROR(p.ParseMetadata(kv_count, &gguf->metadata_));

  gguf->alignment_ = kDefaultAlignment;
  if (const GgufValue* a = gguf->Find("general.alignment")) {
    if (a->type != GgufType::kUint32) {
      return error("key 'general.alignment'",
                   std::string("type ") + GgufTypeName(a->type) + " must be uint32");
    }
    const uint64_t v = std::get<uint64_t>(a->value);
    if (!IsPowerOfTwo(v)) {
      return error("key 'general.alignment'",
                   "value " + std::to_string(v) + " is not a nonzero power of two");
    }
    gguf->alignment_ = v;
  }

  gguf->tensors_.resize(static_cast<size_t>(tensor_count));
  std::unordered_set<std::string> names;
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo& info = gguf->tensors_[static_cast<size_t>(i)];
    SG_RETURN_IF_ERROR(p.ParseTensorInfo(i, &info));
    if (!names.insert(info.name).second) {
      return error("tensor '" + info.name + "'", "duplicate tensor name");
    }
  }
  // The end of the infos is at most the file size, and alignment <= 2^31: no overflow possible,
  // but keep the check so the invariant is local.
  if (!AlignUp(p.pos(), gguf->alignment_, &gguf->data_offset_)) {
    return error("data offset", "overflows");
  }

  const uint64_t file_size = mf.size();
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(gguf->tensors_.size());
  for (const GgufTensorInfo& info : gguf->tensors_) {
    const std::string field = "tensor '" + info.name + "'";
    if (info.offset % gguf->alignment_ != 0) {
      return error(field, "offset " + std::to_string(info.offset) +
                              " is not a multiple of the alignment " +
                              std::to_string(gguf->alignment_));
    }
    uint64_t start = 0, end = 0;
    if (!CheckedAdd(gguf->data_offset_, info.offset, &start) ||
        !CheckedAdd(start, info.nbytes, &end) || end > file_size) {
      return error(field, "data offset " + std::to_string(gguf->data_offset_) + " + offset " +
                              std::to_string(info.offset) + " + size " +
                              std::to_string(info.nbytes) + " exceeds file size " +
                              std::to_string(file_size));
    }
    by_offset.push_back(&info);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& prev = *by_offset[i - 1];
    const GgufTensorInfo& cur = *by_offset[i];
    // prev.offset + prev.nbytes cannot overflow: checked against the file size above.
    if (prev.offset + prev.nbytes > cur.offset) {
      return error("tensor '" + cur.name + "'", "data at offset " + std::to_string(cur.offset) +
                                                    " overlaps tensor '" + prev.name +
                                                    "' (offset " + std::to_string(prev.offset) +
                                                    ", size " + std::to_string(prev.nbytes) + ")");
    }
  }
  return gguf;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  for (const GgufKeyValue& kv : metadata_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  for (const GgufTensorInfo& info : tensors_) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

TensorView GgufFile::View(const GgufTensorInfo& info) const {
  TensorView view;
  view.type = info.type;
  view.shape = info.shape;
  view.data = file_->data() + data_offset_ + info.offset;
  view.nbytes = info.nbytes;
  return view;
}

bool HasGgufMagic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, sizeof magic) && std::memcmp(magic, "GGUF", sizeof magic) == 0;
}

}  // namespace sg
