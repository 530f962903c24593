// Python str semantics on UTF-8 strings: indexing by code point, isspace, case mapping, and the
// str methods templates call (strip, split, replace, find, ...). Inputs are valid UTF-8 (the
// engine refuses anything else at its boundary).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::jinja::py {

// Python's str.isspace for one code point.
bool IsSpace(uint32_t cp);

// Number of code points (len(s) in Python).
size_t Length(std::string_view s);
// Byte offsets of every code point start, plus s.size() at the end (size Length(s) + 1).
std::vector<size_t> CodePointOffsets(std::string_view s);
// True if every byte is ASCII (then code point index == byte index).
bool IsAscii(std::string_view s);

std::string Upper(std::string_view s);
std::string Lower(std::string_view s);
// str.title(): first cased letter of each run of letters upper, the rest lower.
std::string Title(std::string_view s);
// str.capitalize(): first code point upper (title case), the rest lower.
std::string Capitalize(std::string_view s);
bool IsLower(std::string_view s);  // has a cased char and no uppercase ones
bool IsUpper(std::string_view s);

// strip/lstrip/rstrip: CHARS unset -> whitespace; else the set of code points in *chars.
std::string_view Strip(std::string_view s, const std::optional<std::string_view>& chars, bool left,
                       bool right);
// str.split / rsplit. SEP unset -> runs of whitespace. maxsplit < 0 -> no limit.
std::vector<std::string> Split(std::string_view s, const std::optional<std::string_view>& sep,
                               int64_t maxsplit);
std::vector<std::string> RSplit(std::string_view s, const std::optional<std::string_view>& sep,
                                int64_t maxsplit);
// str.replace; count < 0 -> all. Python inserts NEW between every code point for an empty OLD.
std::string Replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count);
// str.splitlines() (without keepends).
std::vector<std::string> SplitLines(std::string_view s);

}  // namespace sg::jinja::py
