#include "server/api/serde_struct.h"

#include <limits>

namespace sg::api {
namespace {

bool VisitSeq(SerdeReader& r, std::string_view name, const std::vector<FieldSpec>& fields,
              std::vector<bool>* present) {
  bool first = true;
  for (size_t i = 0; i < fields.size(); ++i) {
    bool has = false;
    if (!r.HasNextElement(&first, &has)) return false;
    if (!has) {
      if (!fields[i].required_in_seq) continue;  // serde default
      const std::string expected = "struct " + std::string(name) + " with " +
                                   std::to_string(fields.size()) +
                                   (fields.size() == 1 ? " element" : " elements");
      return r.PendingDataError("invalid length " + std::to_string(i) + ", expected " + expected);
    }
    r.PushIndex(i);
    const bool ok = fields[i].read(r);
    r.Pop();
    if (!ok) return false;
    (*present)[i] = true;
  }
  return true;
}

bool VisitMap(SerdeReader& r, const std::vector<FieldSpec>& fields, std::vector<bool>* present) {
  bool first = true;
  while (true) {
    bool has = false;
    if (!r.HasNextKey(&first, &has)) return false;
    if (!has) break;
    std::string key;
    if (!r.ReadKey(&key)) return false;
    size_t i = 0;
    while (i < fields.size() && fields[i].name != key) ++i;
    if (i < fields.size() && (*present)[i]) {
      return r.PendingDataError("duplicate field `" + std::string(fields[i].name) + "`");
    }
    if (!r.ParseColon()) return false;
    r.PushKey(key);
    const bool ok = i < fields.size() ? fields[i].read(r) : r.IgnoreValue();
    r.Pop();
    if (!ok) return false;
    if (i < fields.size()) (*present)[i] = true;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].required_in_map && !(*present)[i]) {
      return r.PendingDataError("missing field `" + std::string(fields[i].name) + "`");
    }
  }
  return true;
}

template <typename T, typename Read>
bool ReadOptional(SerdeReader& r, std::optional<T>* out, Read read) {
  bool is_null = false;
  if (!r.ReadNull(&is_null)) return false;
  if (is_null) {
    out->reset();
    return true;
  }
  T value{};
  if (!read(&value)) return false;
  *out = std::move(value);
  return true;
}

}  // namespace

bool ReadStruct(SerdeReader& r, std::string_view name, const std::vector<FieldSpec>& fields,
                std::vector<bool>* present) {
  std::vector<bool> local;
  if (!present) present = &local;
  present->assign(fields.size(), false);
  int c = 0;
  if (!r.PeekValue(&c)) return false;
  if (c != '[' && c != '{') return r.InvalidType("struct " + std::string(name));
  if (!r.Enter()) return false;
  r.Eat();
  const bool ok = c == '[' ? VisitSeq(r, name, fields, present) : VisitMap(r, fields, present);
  if (!ok) {
    r.FinishContainerError(c == '[' ? ']' : '}');
    return false;
  }
  r.Leave();
  return c == '[' ? r.EndSeq() : r.EndMap();
}

bool ReadOptionalF32(SerdeReader& r, std::optional<float>* out) {
  return ReadOptional(r, out, [&r](float* v) { return r.ReadF32(v); });
}

bool ReadOptionalU32(SerdeReader& r, std::optional<int64_t>* out) {
  return ReadOptional(r, out, [&r](int64_t* v) {
    uint64_t u = 0;
    if (!r.ReadUnsigned(std::numeric_limits<uint32_t>::max(), "u32", &u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  });
}

bool ReadOptionalU64(SerdeReader& r, std::string_view type, std::optional<uint64_t>* out) {
  return ReadOptional(r, out, [&r, type](uint64_t* v) {
    return r.ReadUnsigned(std::numeric_limits<uint64_t>::max(), type, v);
  });
}

bool ReadOptionalI32(SerdeReader& r, std::optional<int64_t>* out) {
  return ReadOptional(r, out, [&r](int64_t* v) {
    return r.ReadSigned(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                        "i32", v);
  });
}

bool ReadOptionalBool(SerdeReader& r, std::optional<bool>* out) {
  return ReadOptional(r, out, [&r](bool* v) { return r.ReadBool(v); });
}

bool ReadOptionalString(SerdeReader& r, std::optional<std::string>* out) {
  return ReadOptional(r, out, [&r](std::string* v) { return r.ReadString(v); });
}

}  // namespace sg::api
