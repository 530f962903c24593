// transformers' clean_up_tokenization: removes the spaces a word-level decode leaves before
// punctuation and English contractions. The replacements run in this order, each over the
// whole string, exactly as the Python chain of str.replace calls does.
#include "engine/text/string_replace.h"
#include "engine/text/tokenizer.h"

namespace sg {

std::string Tokenizer::CleanUpTokenizationSpaces(std::string_view text) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  std::string s(text);
  for (auto [from, to] : kRules) ReplaceAllIn(s, from, to);
  return s;
}

}  // namespace sg
