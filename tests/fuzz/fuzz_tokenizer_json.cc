// libFuzzer target: arbitrary bytes as a tokenizer.json through Tokenizer::FromJson. It must
// return a tokenizer or an error without crashing (nothing derived from the file may throw); a
// tokenizer it accepts must then encode and decode without crashing and keep the Encoding
// invariants. Seeds: fuzz_tokenizer_seeds (shrunken real files, so a run is milliseconds).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/text/tokenizer.h"

namespace {

// A few inputs that reach every stage: spaces, digits, punctuation, non-ASCII, an added-token
// literal, and bytes that are not UTF-8.
constexpr std::string_view kProbes[] = {
    "Hello world! 123 4567",
    "  leading and trailing  ",
    "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80\xE2\x80\x8D\xF0\x9F\x94\xA5",
    "<s></s><|endoftext|><|begin_of_text|>[CLS]",
    "bad \xFF\xC0\xAF utf8 \xED\xA0\x80",
    "",
};

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json doc = nlohmann::json::parse(data, data + size, /*cb=*/nullptr,
                                                   /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  auto tok = sg::Tokenizer::FromJson(doc, nlohmann::json());
  if (!tok.ok()) return 0;
  const sg::Tokenizer& t = **tok;
  const int32_t vocab = t.vocab_size();
  Check(vocab >= 0);
  for (std::string_view text : kProbes) {
    for (bool special : {false, true}) {
      const sg::Encoding enc = t.Encode(text, special);
      Check(enc.ids.size() == enc.offsets.size());
      for (size_t i = 0; i < enc.ids.size(); ++i) {
        Check(enc.ids[i] >= 0 && enc.ids[i] < vocab);
        Check(enc.offsets[i].first <= enc.offsets[i].second);
        Check(enc.offsets[i].second <= text.size());
      }
      volatile size_t sink = t.Decode(enc.ids, special).size();
      (void)sink;
    }
  }
  // Every id, and its neighbours outside the vocabulary, through the id lookups and Decode.
  for (int32_t id = -1; id <= vocab && id < 4096; ++id) {
    const std::string_view piece = t.IdToPiece(id);
    if (!piece.empty()) (void)t.PieceToId(piece);
    (void)t.IsSpecial(id);
    const int32_t one[] = {id};
    (void)t.Decode(one, false);
  }
  return 0;
}
