#include "engine/text/added_vocabulary.h"

#include <algorithm>

#include "engine/text/json_util.h"
#include "engine/text/utf8.h"

namespace sg {
namespace {

bool IsWordChar(uint32_t cp) { return cp == '_' || utf8::IsAlphanumeric(cp); }

}  // namespace

Status AddedVocabulary::Init(const nlohmann::json& added, const Normalizer* normalizer,
                             const Vocab& model) {
  if (added.is_null()) return OkStatus();
  if (!added.is_array()) return InvalidArgumentError("\"added_tokens\" must be an array");
  for (const auto& a : added) {
    AddedToken t;
    std::optional<std::string> content = json_util::String(a, "content");
    std::optional<int64_t> id = json_util::Int(a, "id");
    if (!content || !id || *id < 0 || *id > (1 << 30)) {
      return InvalidArgumentError("added token without content or valid id");
    }
    t.content = *content;
    if (by_content_.count(t.content)) continue;  // HF ignores a second copy
    if (std::optional<int32_t> model_id = model.Find(t.content)) {
      t.id = *model_id;
    } else if (max_id_ < 0) {
      t.id = model.count();
    } else {
      t.id = (max_id_ >= model.count() || model.count() == 0) ? max_id_ + 1 : model.count();
    }
    t.single_word = json_util::BoolOr(a, "single_word", false);
    t.lstrip = json_util::BoolOr(a, "lstrip", false);
    t.rstrip = json_util::BoolOr(a, "rstrip", false);
    t.special = json_util::BoolOr(a, "special", false);
    t.normalized = json_util::BoolOr(a, "normalized", !t.special);
    max_id_ = std::max(max_id_, t.id);
    by_id_[t.id] = tokens_.size();
    by_content_.insert_or_assign(t.content, t.id);
    tokens_.push_back(std::move(t));
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    if (t.content.empty()) continue;
    if (!t.normalized || normalizer == nullptr) {
      sets_[t.normalized ? 1 : 0].tokens.emplace_back(t.content, i);
    } else {
      NormalizedText n = NormalizedText::FromOriginal(t.content, 0);
      normalizer->Normalize(n);
      if (!n.text.empty()) sets_[1].tokens.emplace_back(n.text, i);
    }
  }
  BuildSet(sets_[0]);
  BuildSet(sets_[1]);
  return OkStatus();
}

void AddedVocabulary::BuildSet(PatternSet& set) {
  for (size_t k = 0; k < set.tokens.size(); ++k) {
    set.by_first_byte[static_cast<unsigned char>(set.tokens[k].first[0])].push_back(
        static_cast<uint32_t>(k));
  }
  for (auto& bucket : set.by_first_byte) {
    std::stable_sort(bucket.begin(), bucket.end(), [&](uint32_t a, uint32_t b) {
      return set.tokens[a].first.size() > set.tokens[b].first.size();
    });
  }
}

void AddedVocabulary::FindMatches(std::string_view text, bool normalized,
                                  std::vector<Match>& out) const {
  const PatternSet& set = sets_[normalized ? 1 : 0];
  if (set.tokens.empty()) return;
  size_t consumed = 0;  // end of the previous accepted match (HF's start_offset)
  size_t pos = 0;
  while (pos < text.size()) {
    const auto& bucket = set.by_first_byte[static_cast<unsigned char>(text[pos])];
    const std::pair<std::string, size_t>* hit = nullptr;
    for (uint32_t k : bucket) {
      const std::string& p = set.tokens[k].first;
      if (text.compare(pos, p.size(), p) == 0) {
        hit = &set.tokens[k];
        break;
      }
    }
    if (hit == nullptr) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[hit->second];
    size_t start = pos, stop = pos + hit->first.size();
    pos = stop;  // the automaton resumes after a match even if the rules below reject it
    if (t.single_word) {
      size_t k = start;
      bool start_ok = start == 0 || !IsWordChar(utf8::Prev(text, k));
      k = stop;
      bool stop_ok = stop == text.size() || !IsWordChar(utf8::Next(text, k));
      if (!start_ok || !stop_ok) continue;
    }
    if (t.lstrip) {
      size_t k = start;
      while (k > consumed) {
        size_t j = k;
        if (!utf8::IsWhitespace(utf8::Prev(text, j))) break;
        k = j;
      }
      start = std::max(k, consumed);
    }
    if (t.rstrip) {
      while (stop < text.size()) {
        size_t j = stop;
        if (!utf8::IsWhitespace(utf8::Next(text, j))) break;
        stop = j;
      }
      pos = stop;
    }
    out.push_back({start, stop, t.id});
    consumed = stop;
  }
}

const AddedToken* AddedVocabulary::ById(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::FindContent(std::string_view content) const {
  auto it = by_content_.find(content);
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sg
