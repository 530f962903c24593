// libFuzzer target: arbitrary bytes as a regex pattern through ParseRegex, and every pattern that
// parses compiled by ByteDfa::Compile under small limits (20000 NFA / 2000 DFA states). Nothing
// may crash, hang or leak; a refusal must be InvalidArgument (parse) or ResourceExhausted
// (compile); a compiled DFA must keep its invariants (every state's shortest-path byte leads one
// step closer to acceptance, so no kept state is a dead end). Seeds: scripts/fuzz.sh writes a few
// patterns; tests/fuzz/regex.dict lists the syntax's tokens.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/constrain/byte_dfa.h"
#include "engine/constrain/regex_parser.h"
#include "engine/constrain/rx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view pattern(reinterpret_cast<const char*>(data), size);
  auto rx = sg::ParseRegex(pattern);
  if (!rx.ok()) {
    if (rx.status().code() != sg::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  (void)sg::RxToString(*rx);
  sg::DfaLimits limits;
  limits.max_nfa_states = 20000;
  limits.max_dfa_states = 2000;
  auto dfa = sg::ByteDfa::Compile(*rx, limits);
  if (!dfa.ok()) {
    if (dfa.status().code() != sg::StatusCode::kResourceExhausted) __builtin_trap();
    return 0;
  }
  if (dfa->start() == sg::ByteDfa::kDead) {
    if (dfa->num_states() != 0 || dfa->Matches("")) __builtin_trap();
    return 0;
  }
  for (int32_t s = 0; s < dfa->num_states(); ++s) {
    const int32_t d = dfa->MinBytesToAccept(s);
    if (d < 0 || (d == 0) != dfa->IsAccepting(s)) __builtin_trap();
    if (d == 0) continue;
    const int32_t b = dfa->ShortestPathByte(s);
    if (b < 0 || b > 255) __builtin_trap();
    const int32_t next = dfa->Next(s, static_cast<uint8_t>(b));
    if (next == sg::ByteDfa::kDead || dfa->MinBytesToAccept(next) != d - 1) __builtin_trap();
  }
  // The pattern's own bytes: any answer, but no crash.
  (void)dfa->Matches(pattern);
  return 0;
}
