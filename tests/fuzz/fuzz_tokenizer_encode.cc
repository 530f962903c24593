// libFuzzer target: the real llama3 (byte-level BPE) and llama2 (SentencePiece-style BPE with
// byte fallback) tokenizers, loaded once, on arbitrary bytes. The first byte picks the tokenizer
// and the flags; the rest is both the text to Encode (invalid UTF-8 included) and, read as
// little-endian int32s, an id sequence to Decode (out-of-range and negative ids included).
// Checked: the Encoding invariants, valid UTF-8 out of every Decode, and for llama3 (no
// normalizer, byte-level) that valid UTF-8 text comes back byte for byte.
// The tokenizers are found under $STREAMGEN_SHARED_DIR/refdata/tokenizers, else the build's.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/text/tokenizer.h"

namespace {

std::unique_ptr<sg::Tokenizer> LoadOrDie(const char* family) {
  const char* env = std::getenv("STREAMGEN_SHARED_DIR");
  const std::string shared = env != nullptr ? env : STREAMGEN_SHARED_DIR;
  const std::string path = shared + "/refdata/tokenizers/" + family;
  auto tok = sg::Tokenizer::Load(path);
  if (!tok.ok()) {
    std::fprintf(stderr, "fuzz_tokenizer_encode: %s: %s\n", path.c_str(),
                 tok.status().ToString().c_str());
    std::abort();
  }
  return std::move(tok).value();
}

struct Tokenizers {
  std::unique_ptr<sg::Tokenizer> llama3 = LoadOrDie("llama3");
  std::unique_ptr<sg::Tokenizer> llama2 = LoadOrDie("llama2");
};

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    const int len = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = b & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace

// Loaded before the first input, outside libFuzzer's per-input timeout (the 9 MB llama3 file takes
// seconds under ASan).
const Tokenizers* toks = nullptr;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  toks = new Tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const sg::Tokenizer& t = (mode & 1) ? *toks->llama2 : *toks->llama3;
  const bool add_special = (mode & 2) != 0;
  const bool skip_special = (mode & 4) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const int32_t vocab = t.vocab_size();

  const bool valid = IsValidUtf8(text);
  const sg::Encoding enc = t.Encode(text, add_special);
  Check(enc.ids.size() == enc.offsets.size());
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    Check(enc.ids[i] >= 0 && enc.ids[i] < vocab);
    Check(enc.offsets[i].first <= enc.offsets[i].second);
    // Into the caller's bytes even when invalid UTF-8 was repaired to U+FFFD inside.
    Check(enc.offsets[i].second <= text.size());
  }
  const std::string decoded = t.Decode(enc.ids, skip_special);
  Check(IsValidUtf8(decoded));
  if (!(mode & 1) && !add_special && !skip_special && valid) Check(decoded == text);
  (void)sg::Tokenizer::CleanUpTokenizationSpaces(decoded);

  std::vector<int32_t> ids((size - 1) / 4);
  if (!ids.empty()) std::memcpy(ids.data(), data + 1, ids.size() * 4);
  // Half the time fold the ids into the vocabulary, so most of them are real tokens.
  if (mode & 8) {
    for (int32_t& id : ids) id = static_cast<int32_t>(static_cast<uint32_t>(id) % (vocab + 8));
  }
  Check(IsValidUtf8(t.Decode(ids, skip_special)));
  return 0;
}
