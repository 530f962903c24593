// The vocabulary as constrained decoding sees it: each token's bytes in the generated text, sorted
// so that a walk over all tokens shares the work of common prefixes (a token's DFA path is resumed
// from the longest prefix it shares with the previous token in byte order, and a dead prefix skips
// every token that starts with it).
//
// Built once per tokenizer (it does not depend on any grammar); immutable after construction;
// any thread may read it concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

class TokenIndex {
 public:
  // token_bytes[id]: the bytes token `id` adds to the text. An empty string marks a token that is
  // never allowed under a constraint (special and control tokens). eos_ids: the tokens that end a
  // sequence; a constraint allows them only in an accepting state (their bytes are cleared, as
  // are those of a token longer than 65535 bytes, which is never allowed).
  TokenIndex(std::vector<std::string> token_bytes, std::vector<int32_t> eos_ids);

  int32_t vocab_size() const { return static_cast<int32_t>(bytes_.size()); }
  std::string_view TokenBytes(int32_t id) const { return bytes_[id]; }
  std::span<const int32_t> eos_ids() const { return eos_ids_; }

  // Tokens with non-empty bytes in lexicographic byte order, and for each position the length of
  // the prefix it shares with the previous one (0 for the first).
  std::span<const int32_t> sorted_ids() const { return sorted_ids_; }
  std::span<const uint16_t> shared_prefix() const { return shared_prefix_; }
  // The bytes of sorted token i past its shared prefix (the edge labels of the token trie), stored
  // back to back in sorted order so that a walk over all tokens reads memory sequentially:
  // TokenBytes(sorted_ids()[i]).substr(shared_prefix()[i]).
  std::string_view sorted_suffix(size_t i) const {
    return std::string_view(suffix_bytes_)
        .substr(suffix_begin_[i], suffix_begin_[i + 1] - suffix_begin_[i]);
  }
  size_t max_token_bytes() const { return max_len_; }

 private:
  std::vector<std::string> bytes_;
  std::vector<int32_t> eos_ids_;
  std::vector<int32_t> sorted_ids_;
  std::vector<uint16_t> shared_prefix_;
  std::string suffix_bytes_;            // sorted_suffix(i) for every i, concatenated
  std::vector<uint32_t> suffix_begin_;  // {sorted_ids_.size() + 1} offsets into suffix_bytes_
  size_t max_len_ = 0;
};

}  // namespace sg
