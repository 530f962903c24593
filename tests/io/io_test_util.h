// Helpers for io tests: raw byte builders for hand-made (often broken) files, a temp folder, and
// error-checking assertions.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/mapped_file.h"
#include "engine/core/status.h"

namespace sg::testing {

// Appends little-endian fields; GGUF-shaped helpers on top.
class RawBytes {
 public:
  template <typename T>
  RawBytes& Put(T v) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &v, sizeof(T));
    return *this;
  }
  RawBytes& U8(uint8_t v) { return Put(v); }
  RawBytes& U32(uint32_t v) { return Put(v); }
  RawBytes& U64(uint64_t v) { return Put(v); }
  RawBytes& I64(int64_t v) { return Put(v); }
  RawBytes& Str(const std::string& s) {
    U64(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  RawBytes& Raw(const std::string& s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  RawBytes& Zeros(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return *this;
  }
  RawBytes& PadTo(size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  // GGUF pieces.
  RawBytes& GgufHeader(uint32_t version, uint64_t tensor_count, uint64_t kv_count) {
    return Raw("GGUF").U32(version).U64(tensor_count).U64(kv_count);
  }
  RawBytes& KvU32(const std::string& key, uint32_t v) { return Str(key).U32(4).U32(v); }
  RawBytes& TensorInfo(const std::string& name, const std::vector<int64_t>& ne, uint32_t type,
                       uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) I64(d);
    return U32(type).U64(offset);
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
};

inline std::shared_ptr<MappedFile> Map(const std::vector<uint8_t>& bytes, const std::string& name) {
  return MappedFile::FromBytes(name, bytes.data(), bytes.size());
}

// Safetensors bytes: 8-byte header length, the header text as given, then `data`.
inline std::vector<uint8_t> SafetensorsBytes(const std::string& header,
                                             const std::vector<uint8_t>& data) {
  RawBytes b;
  b.U64(header.size()).Raw(header);
  std::vector<uint8_t> out = b.bytes();
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

template <typename T>
void ExpectError(const StatusOr<T>& result, StatusCode code, const std::string& prefix,
                 const std::string& needle) {
  ASSERT_FALSE(result.ok()) << "expected an error containing: " << needle;
  EXPECT_EQ(result.status().code(), code) << result.status().ToString();
  EXPECT_EQ(result.status().message().rfind(prefix, 0), 0u) << result.status().message();
  EXPECT_NE(result.status().message().find(needle), std::string::npos)
      << "message: " << result.status().message() << "\nexpected to contain: " << needle;
}

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sg_io_XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  void WriteText(const std::string& name, const std::string& text) const {
    std::ofstream(File(name), std::ios::binary) << text;
  }

 private:
  std::string path_;
};

}  // namespace sg::testing
