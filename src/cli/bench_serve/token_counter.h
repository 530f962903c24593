// Token counts for building prompts of exact lengths, from one of two sources:
//   * the server's own tokenizer, through TGI's POST /tokenize (streamgen and TGI have it): the
//     counts are those of the model under test, with no local files;
//   * streamgen's tokenizer on a local file (--tokenizer: tokenizer.json, a folder or a GGUF),
//     for servers without TGI's /tokenize (vLLM and llama.cpp answer other shapes there).
// Both return the text's tokens without the special tokens the tokenizer adds (BOS), each with
// its byte span in the text, so a text can be cut after its k-th token.
// Thread rules: a counter blocks the calling thread; call it before a point starts, never from
// inside a running point's io_context.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/bench_serve/target.h"
#include "engine/core/status.h"

namespace sg::benchserve {

struct TokenSpan {
  int64_t id = 0;
  size_t start = 0, stop = 0;  // [start, stop) byte offsets into the text
};

struct TokenCounter {
  std::string source;  // for the report: "server /tokenize" or "tokenizer <path>"
  std::function<StatusOr<std::vector<TokenSpan>>(const std::string& text)> count;
};

// The server's POST /tokenize. Fails (with the reason) when the route is missing or answers
// another shape, so the caller can say what to do instead.
StatusOr<TokenCounter> ServerTokenCounter(const Target& target);
// streamgen's tokenizer loaded from PATH.
StatusOr<TokenCounter> LocalTokenCounter(const std::string& path);

// TGI's /tokenize answer (a JSON array of {id, text, start, stop}) -> spans; special tokens
// (offsets 0..0, as the spec gives them) are dropped.
StatusOr<std::vector<TokenSpan>> ParseTokenizeReply(const std::string& body);

}  // namespace sg::benchserve
