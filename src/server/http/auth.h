// The API-key check (TGI: `--api-key`; API contract §1.1 and §10 item 23).
// Pure; any thread.
#pragma once

#include <string_view>

namespace sg::http {

// True iff `authorization` (the whole header value) equals "Bearer <api_key>" with both sides
// ASCII-lowercased, as TGI compares them. The time taken depends only on the lengths, never on
// where the first differing byte is, so the key cannot be guessed byte by byte from timings.
bool ApiKeyMatches(std::string_view authorization, std::string_view api_key);

}  // namespace sg::http
