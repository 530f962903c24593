// Token indexes of the real tokenizers the constraint tests run on (qwen3: 151k ids, byte-level;
// llama2: 32k, SentencePiece with byte fallback; the demo model: 2k, byte fallback), built once
// per test process, and a brute-force mask to compare the fast walk against.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/constrain/byte_dfa.h"
#include "engine/constrain/token_index.h"
#include "engine/text/token_bytes.h"
#include "engine/text/tokenizer.h"
#include "support/test_data.h"

namespace sg::constrain_test {

// "qwen3", "llama2" (under ../shared/refdata/tokenizers) or "demo" (models/demo/hf). Null (with a
// test failure) if the tokenizer does not load. EOS = the settings' eos_token_id.
inline std::shared_ptr<const TokenIndex> RealIndex(const std::string& family) {
  static std::map<std::string, std::shared_ptr<const TokenIndex>> cache;
  auto it = cache.find(family);
  if (it != cache.end()) return it->second;
  const std::string path = family == "demo" ? STREAMGEN_SOURCE_DIR "/models/demo/hf"
                                            : test::kRefdataDir + "/tokenizers/" + family;
  auto tok = Tokenizer::Load(path);
  if (!tok.ok()) {
    ADD_FAILURE() << family << ": " << tok.status().ToString();
    return nullptr;
  }
  std::vector<int32_t> eos;
  if ((*tok)->settings().eos_token_id) eos.push_back(*(*tok)->settings().eos_token_id);
  auto index = std::make_shared<const TokenIndex>(TokenByteStrings(**tok), std::move(eos));
  cache[family] = index;
  return index;
}

// The allowed set by definition: a token is allowed from `state` when walking all its bytes stays
// alive (and its end state is within `max_distance` of acceptance); EOS when `state` accepts.
struct BruteMask {
  std::vector<bool> allowed;
  int32_t count = 0;
  int32_t max_next_distance = 0;
};

inline BruteMask BruteForceMask(const ByteDfa& dfa, const TokenIndex& index, int32_t state,
                                int32_t max_distance = 1 << 30) {
  BruteMask m;
  m.allowed.assign(static_cast<size_t>(index.vocab_size()), false);
  for (int32_t id = 0; id < index.vocab_size(); ++id) {
    bool is_eos = false;
    for (int32_t e : index.eos_ids()) is_eos |= e == id;
    if (is_eos) {
      m.allowed[id] = dfa.IsAccepting(state);
    } else if (!index.TokenBytes(id).empty()) {
      const int32_t next = dfa.Walk(state, index.TokenBytes(id));
      if (next != ByteDfa::kDead && dfa.MinBytesToAccept(next) <= max_distance) {
        m.allowed[id] = true;
        m.max_next_distance = std::max(m.max_next_distance, dfa.MinBytesToAccept(next));
      }
    }
    m.count += m.allowed[id];
  }
  return m;
}

}  // namespace sg::constrain_test
