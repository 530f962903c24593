// safetensors writer: tensors laid out back to back in the order given; the JSON header is padded
// with spaces to a multiple of 8 bytes (as the reference implementation does) so that the data
// buffer starts 8-byte aligned in the file.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "engine/io/byte_reader.h"
#include "engine/io/safetensors.h"
#include "engine/io/safetensors_dtype.h"

namespace sg {

Status WriteSafetensors(const std::string& path, const std::vector<SafetensorsWriteTensor>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  using Json = nlohmann::ordered_json;
  Json header = Json::object();
  if (!metadata.empty()) {
    Json md = Json::object();
    for (const auto& [k, v] : metadata) md[k] = v;
    header["__metadata__"] = std::move(md);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const SafetensorsWriteTensor& t : tensors) {
    const std::string what = path + ": tensor '" + t.name + "': ";
    if (t.name == "__metadata__" || !names.insert(t.name).second) {
      return InvalidArgumentError(what + "duplicate or reserved name");
    }
    std::optional<std::string_view> dtype = SafetensorsDTypeName(t.type);
    if (!dtype) return InvalidArgumentError(what + "type has no safetensors dtype");
    uint64_t nbytes = GetDTypeInfo(t.type).block_bytes;
    for (int64_t d : t.shape) {
      if (d < 0 || !CheckedMul(nbytes, static_cast<uint64_t>(d), &nbytes)) {
        return InvalidArgumentError(what + "bad shape");
      }
    }
    if (nbytes != t.bytes.size()) {
      return InvalidArgumentError(what + "expected " + std::to_string(nbytes) + " bytes, got " +
                                  std::to_string(t.bytes.size()));
    }
    header[t.name] = {{"dtype", std::string(*dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // invalid UTF-8 in a name or metadata
    return InvalidArgumentError(path + ": cannot encode header: " + e.what());
  }
  while (text.size() % 8 != 0) text.push_back(' ');

  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return IoError(path + ": cannot create: " + std::strerror(errno));
  const uint64_t header_len = text.size();
  bool ok = std::fwrite(&header_len, 8, 1, f) == 1;
  ok = ok && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (const SafetensorsWriteTensor& t : tensors) {
    if (t.bytes.empty()) continue;  // fwrite's buffer must not be null, even for 0 bytes
    ok = ok && std::fwrite(t.bytes.data(), 1, t.bytes.size(), f) == t.bytes.size();
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return IoError(path + ": write failed");
  return OkStatus();
}

}  // namespace sg
