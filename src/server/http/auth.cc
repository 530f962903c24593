#include "server/http/auth.h"

#include <cstddef>
#include <string>

namespace sg::http {
namespace {

unsigned char LowerAscii(unsigned char c) {
  // Branch-free, so the loop below takes the same time whatever the bytes are.
  return static_cast<unsigned char>(c | (static_cast<unsigned char>(c - 'A') < 26u ? 0x20 : 0));
}

}  // namespace

bool ApiKeyMatches(std::string_view authorization, std::string_view api_key) {
  static constexpr std::string_view kPrefix = "bearer ";
  const size_t expected_size = kPrefix.size() + api_key.size();
  // Every byte of the expected value is compared whatever the result; a length mismatch only sets
  // a bit, it does not end the loop early.
  unsigned diff = authorization.size() == expected_size ? 0u : 1u;
  for (size_t i = 0; i < expected_size; ++i) {
    const unsigned char want = LowerAscii(
        static_cast<unsigned char>(i < kPrefix.size() ? kPrefix[i] : api_key[i - kPrefix.size()]));
    const unsigned char got =
        i < authorization.size() ? LowerAscii(static_cast<unsigned char>(authorization[i])) : 0;
    diff |= static_cast<unsigned>(want ^ got);
  }
  return diff == 0;
}

}  // namespace sg::http
