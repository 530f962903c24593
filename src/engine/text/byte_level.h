// GPT-2's byte <-> printable-character table shared by the ByteLevel pre-tokenizer and decoder:
// the printable Latin-1 bytes stand for themselves, the other 68 bytes are shifted to U+0100+.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace sg {

// UTF-8 of the character that stands for each byte.
const std::array<std::string, 256>& ByteLevelChars();
// The byte a character stands for, or -1 if CP is not in the table.
int ByteLevelByte(uint32_t cp);

}  // namespace sg
