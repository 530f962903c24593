// UTF-8 helpers with Rust's semantics (TGI's strings are Rust Strings). Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sg::api {

// Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF), as Rust's str::from_utf8.
bool IsValidUtf8(std::string_view s);

// String::from_utf8_lossy: each maximal invalid subpart becomes one U+FFFD.
std::string Utf8Lossy(std::string_view s);

// Appends the UTF-8 encoding of a Unicode scalar value (callers pass valid ones).
void AppendUtf8(std::string& out, uint32_t code_point);

// Unicode scalar values in valid UTF-8 (Rust's `chars().count()`, x-compute-characters).
int64_t CountChars(std::string_view utf8);

}  // namespace sg::api
