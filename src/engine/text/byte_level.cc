#include "engine/text/byte_level.h"

#include "engine/text/utf8.h"

namespace sg {
namespace {

struct Tables {
  std::array<std::string, 256> chars;
  std::array<int16_t, 324> bytes;  // index: code point (all table chars are below U+0144)
  Tables() {
    bytes.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      uint32_t cp = printable ? b : next++;
      utf8::Append(cp, chars[b]);
      bytes[cp] = static_cast<int16_t>(b);
    }
  }
};

const Tables& Get() {
  static const Tables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& ByteLevelChars() { return Get().chars; }

int ByteLevelByte(uint32_t cp) { return cp < 324 ? Get().bytes[cp] : -1; }

}  // namespace sg
