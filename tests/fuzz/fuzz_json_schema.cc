// libFuzzer target: arbitrary bytes as a JSON Schema (the `grammar` value a client sends) through
// JsonSchemaToRx, and every schema that compiles turned into a ByteDfa under small limits (20000
// NFA / 2000 DFA states). Nothing may crash, hang or leak; a refusal must be InvalidArgument
// (schema) or ResourceExhausted (size). A compiled DFA's shortest text must parse as JSON: the
// compiler promises only JSON texts. Seeds: the schemas of tests/constrain/schemas (scripts/fuzz.sh
// copies them); tests/fuzz/json_schema.dict lists the keywords.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/constrain/byte_dfa.h"
#include "engine/constrain/json_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::ordered_json schema =
      nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return 0;
  auto rx = sg::JsonSchemaToRx(schema);
  if (!rx.ok()) {
    if (rx.status().code() != sg::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  sg::DfaLimits limits;
  limits.max_nfa_states = 20000;
  limits.max_dfa_states = 2000;
  auto dfa = sg::ByteDfa::Compile(*rx, limits);
  if (!dfa.ok()) {
    if (dfa.status().code() != sg::StatusCode::kResourceExhausted) __builtin_trap();
    return 0;
  }
  if (dfa->start() == sg::ByteDfa::kDead) return 0;
  // Follow the shortest path to acceptance: that text is one the grammar could produce.
  std::string shortest;
  for (int32_t s = dfa->start(); s != sg::ByteDfa::kDead && !dfa->IsAccepting(s);) {
    const int32_t b = dfa->ShortestPathByte(s);
    if (b < 0 || shortest.size() > 1000000) __builtin_trap();
    shortest.push_back(static_cast<char>(b));
    s = dfa->Next(s, static_cast<uint8_t>(b));
  }
  if (!nlohmann::json::accept(shortest)) __builtin_trap();
  return 0;
}
