#include "engine/text/hf_tokenizer.h"

#include <algorithm>

#include "engine/text/utf8.h"

namespace sg {

HfTokenizer::HfTokenizer(TokenizerParts parts) : p_(std::move(parts)) {
  vocab_size_ = std::max(p_.model->vocab().size(), p_.added.max_id() + 1);
}

Encoding HfTokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  // Invalid UTF-8 is replaced as Rust's lossy conversion does; the offsets are mapped back to
  // the caller's bytes at the end.
  std::string sanitized;
  std::vector<std::pair<uint32_t, uint32_t>> source;
  if (!utf8::IsValid(text)) {
    sanitized = utf8::Lossy(text, &source);
    text = sanitized;
  }
  Encoding enc;
  enc.ids.reserve(text.size() / 3 + 4);
  enc.offsets.reserve(enc.ids.capacity());
  std::vector<AddedVocabulary::Match> matches;
  p_.added.FindMatches(text, /*normalized=*/false, matches);
  size_t prev = 0;
  for (const auto& m : matches) {
    if (m.begin > prev) EncodeSegment(text.substr(prev, m.begin - prev), prev, enc);
    enc.ids.push_back(m.id);
    enc.offsets.emplace_back(static_cast<uint32_t>(m.begin), static_cast<uint32_t>(m.end));
    prev = m.end;
  }
  if (prev < text.size()) EncodeSegment(text.substr(prev), prev, enc);
  if (!source.empty()) {
    for (auto& [b, e] : enc.offsets) {
      if (e > b) {
        b = source[b].first;
        e = source[e - 1].second;
      } else {
        b = e = b < source.size() ? source[b].first : source.back().second;
      }
    }
  }
  if (p_.post_processor) {
    p_.post_processor->Process(enc, add_special_tokens,
                               [this](int32_t id) { return IdToPiece(id); });
  }
  return enc;
}

void HfTokenizer::EncodeSegment(std::string_view original, uint32_t base, Encoding& enc) const {
  NormalizedText n = NormalizedText::FromOriginal(original, base);
  if (p_.normalizer) p_.normalizer->Normalize(n);
  if (!p_.added.HasNormalized()) {
    EncodeNormalized(std::move(n), enc);
    return;
  }
  std::vector<AddedVocabulary::Match> matches;
  p_.added.FindMatches(n.text, /*normalized=*/true, matches);
  size_t prev = 0;
  for (const auto& m : matches) {
    if (m.begin > prev) EncodeNormalized(n.Slice(prev, m.begin), enc);
    ByteSpan span = n.OriginalRange(m.begin, m.end);
    enc.ids.push_back(m.id);
    enc.offsets.emplace_back(span.begin, span.end);
    prev = m.end;
  }
  if (prev < n.text.size()) {
    EncodeNormalized(prev == 0 ? std::move(n) : n.Slice(prev, n.text.size()), enc);
  }
}

void HfTokenizer::EncodeNormalized(NormalizedText piece, Encoding& enc) const {
  if (piece.text.empty()) return;
  std::vector<NormalizedText> words;
  words.push_back(std::move(piece));
  if (p_.pre_tokenizer) p_.pre_tokenizer->PreTokenize(words);
  std::vector<ModelToken> tokens;
  for (const NormalizedText& w : words) {
    if (w.text.empty()) continue;
    tokens.clear();
    p_.model->Tokenize(w.text, tokens);
    for (const ModelToken& t : tokens) {
      ByteSpan span = w.OriginalRange(t.begin, t.end);
      enc.ids.push_back(t.id);
      enc.offsets.emplace_back(span.begin, span.end);
    }
  }
}

std::string HfTokenizer::Decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (const AddedToken* a = p_.added.ById(id)) {
      if (skip_special_tokens && a->special) continue;
      tokens.push_back(a->content);
      continue;
    }
    std::string_view piece = p_.model->vocab().Token(id);
    if (piece.empty()) continue;  // out of range or a hole
    tokens.emplace_back(piece);
  }
  if (p_.decoder) {
    p_.decoder->Decode(tokens);
    std::string out;
    for (const std::string& t : tokens) out += t;
    return out;
  }
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out.push_back(' ');
    out += tokens[i];
  }
  return out;
}

bool HfTokenizer::IsSpecial(int32_t id) const {
  const AddedToken* a = p_.added.ById(id);
  return a != nullptr && a->special;
}

std::string_view HfTokenizer::IdToPiece(int32_t id) const {
  if (const AddedToken* a = p_.added.ById(id)) return a->content;
  return p_.model->vocab().Token(id);
}

std::optional<int32_t> HfTokenizer::PieceToId(std::string_view piece) const {
  if (std::optional<int32_t> id = p_.added.FindContent(piece)) return id;
  return p_.model->vocab().Find(piece);
}

}  // namespace sg
