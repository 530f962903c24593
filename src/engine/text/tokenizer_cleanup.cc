// transformers' clean_up_tokenization: removes the spaces a word-level decode leaves before
// punctuation and English contractions. The replacements run in this order, each over the
// whole string, exactly as the Python chain of str.replace calls does.
#include "engine/text/tokenizer.h"

namespace sg {

std::string Tokenizer::CleanUpTokenizationSpaces(std::string_view text) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  std::string s(text);
  std::string out;
  for (auto [from, to] : kRules) {
    size_t pos = s.find(from);
    if (pos == std::string::npos) continue;
    out.clear();
    size_t prev = 0;
    while (pos != std::string::npos) {
      out.append(s, prev, pos - prev);
      out.append(to);
      prev = pos + from.size();
      pos = s.find(from, prev);
    }
    out.append(s, prev, std::string::npos);
    s.swap(out);
  }
  return s;
}

}  // namespace sg
