#include "engine/text/pre_tokenizers.h"

#include <string>
#include <utility>

#include "engine/text/byte_level.h"
#include "engine/text/json_util.h"
#include "engine/text/regex.h"
#include "engine/text/split_behavior.h"
#include "engine/text/utf8.h"

namespace sg {
namespace {

// make_unique returning the interface type, so it converts to StatusOr in one step.
template <typename T, typename... A>
std::unique_ptr<PreTokenizer> New(A&&... a) {
  return std::make_unique<T>(std::forward<A>(a)...);
}

using Matches = std::vector<std::pair<size_t, size_t>>;

// GPT-2's word regex, used by ByteLevel when use_regex is set.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Applies SPLIT_ONE(piece, out) to every piece.
template <typename F>
void ForEachPiece(std::vector<NormalizedText>& pieces, F split_one) {
  std::vector<NormalizedText> out;
  out.reserve(pieces.size() * 2);
  for (const NormalizedText& p : pieces) split_one(p, out);
  pieces.swap(out);
}

// One match per character satisfying PRED (HF's `Fn(char) -> bool` pattern).
template <typename Pred>
void CharMatches(std::string_view s, Pred pred, Matches& m) {
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    if (pred(utf8::Next(s, i))) m.emplace_back(start, i);
  }
}

void LiteralMatches(std::string_view s, std::string_view lit, Matches& m) {
  if (lit.empty()) return;
  size_t pos = s.find(lit);
  while (pos != std::string_view::npos) {
    m.emplace_back(pos, pos + lit.size());
    pos = s.find(lit, pos + lit.size());
  }
}

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, std::shared_ptr<const Regex> re)
      : add_prefix_space_(add_prefix_space), re_(std::move(re)) {}

  void PreTokenize(std::vector<NormalizedText>& pieces) const override {
    ForEachPiece(pieces, [&](const NormalizedText& p, std::vector<NormalizedText>& out) {
      NormalizedText copy;
      const NormalizedText* src = &p;
      if (add_prefix_space_ && (p.text.empty() || p.text[0] != ' ')) {
        copy = p;
        copy.Prepend(" ");
        src = &copy;
      }
      size_t first = out.size();
      if (re_) {
        Matches m;
        re_->FindAll(src->text, m);
        SplitPiece(*src, m, false, SplitBehavior::kIsolated, out);
      } else if (!src->text.empty()) {
        out.push_back(*src);
      }
      for (size_t k = first; k < out.size(); ++k) MapBytes(out[k]);
    });
  }

 private:
  static void MapBytes(NormalizedText& t) {
    const auto& chars = ByteLevelChars();
    NormalizedBuilder b(t.text.size() * 2);
    for (size_t i = 0; i < t.text.size(); ++i) {
      b.Append(chars[static_cast<unsigned char>(t.text[i])], t.align[i]);
    }
    t = b.Finish(t.original_begin);
  }

  bool add_prefix_space_;
  std::shared_ptr<const Regex> re_;
};

class Split : public PreTokenizer {
 public:
  Split(std::string literal, std::shared_ptr<const Regex> re, SplitBehavior behavior, bool invert)
      : literal_(std::move(literal)), re_(std::move(re)), behavior_(behavior), invert_(invert) {}
  void PreTokenize(std::vector<NormalizedText>& pieces) const override {
    Matches m;
    ForEachPiece(pieces, [&](const NormalizedText& p, std::vector<NormalizedText>& out) {
      m.clear();
      if (re_) {
        re_->FindAll(p.text, m);
      } else {
        LiteralMatches(p.text, literal_, m);
      }
      SplitPiece(p, m, invert_, behavior_, out);
    });
  }

 private:
  std::string literal_;
  std::shared_ptr<const Regex> re_;
  SplitBehavior behavior_;
  bool invert_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class Metaspace : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void PreTokenize(std::vector<NormalizedText>& pieces) const override {
    Matches m;
    ForEachPiece(pieces, [&](const NormalizedText& p, std::vector<NormalizedText>& out) {
      NormalizedText t = p;
      t.ReplaceAll(" ", replacement_);
      bool starts = t.text.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == PrependScheme::kAlways ||
                      (scheme_ == PrependScheme::kFirst && t.original_begin == 0))) {
        t.Prepend(replacement_);
      }
      if (!split_) {
        if (!t.text.empty()) out.push_back(std::move(t));
        return;
      }
      m.clear();
      LiteralMatches(t.text, replacement_, m);
      SplitPiece(t, m, false, SplitBehavior::kMergedWithNext, out);
    });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

// Splits on characters satisfying a predicate with a fixed behavior.
template <typename Pred>
class CharSplit : public PreTokenizer {
 public:
  CharSplit(Pred pred, SplitBehavior behavior) : pred_(pred), behavior_(behavior) {}
  void PreTokenize(std::vector<NormalizedText>& pieces) const override {
    Matches m;
    ForEachPiece(pieces, [&](const NormalizedText& p, std::vector<NormalizedText>& out) {
      m.clear();
      CharMatches(p.text, pred_, m);
      SplitPiece(p, m, false, behavior_, out);
    });
  }

 private:
  Pred pred_;
  SplitBehavior behavior_;
};

template <typename Pred>
std::unique_ptr<PreTokenizer> MakeCharSplit(Pred pred, SplitBehavior behavior) {
  return New<CharSplit<Pred>>(pred, behavior);
}

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts)
      : parts_(std::move(parts)) {}
  void PreTokenize(std::vector<NormalizedText>& pieces) const override {
    for (const auto& p : parts_) p->PreTokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

StatusOr<std::unique_ptr<PreTokenizer>> MakeSplit(const nlohmann::json& j) {
  const nlohmann::json* pattern = json_util::Member(j, "pattern");
  if (pattern == nullptr) return InvalidArgumentError("Split pre-tokenizer: missing pattern");
  std::optional<SplitBehavior> behavior =
      ParseSplitBehavior(json_util::StringOr(j, "behavior", "Isolated"));
  if (!behavior) return InvalidArgumentError("Split pre-tokenizer: unknown behavior");
  bool invert = json_util::BoolOr(j, "invert", false);
  if (std::optional<std::string> s = json_util::String(*pattern, "String")) {
    return New<Split>(*s, nullptr, *behavior, invert);
  }
  if (std::optional<std::string> r = json_util::String(*pattern, "Regex")) {
    SG_ASSIGN_OR_RETURN(auto re, Regex::Compile(*r));
    return New<Split>("", std::move(re), *behavior, invert);
  }
  return InvalidArgumentError("Split pre-tokenizer: pattern is neither String nor Regex");
}

StatusOr<std::unique_ptr<PreTokenizer>> MakeMetaspace(const nlohmann::json& j) {
  std::string replacement = json_util::StringOr(j, "replacement", "\xE2\x96\x81");
  if (replacement.empty()) return InvalidArgumentError("Metaspace: empty replacement");
  PrependScheme scheme = PrependScheme::kAlways;
  if (std::optional<std::string> s = json_util::String(j, "prepend_scheme")) {
    if (*s == "always") {
      scheme = PrependScheme::kAlways;
    } else if (*s == "first") {
      scheme = PrependScheme::kFirst;
    } else if (*s == "never") {
      scheme = PrependScheme::kNever;
    } else {
      return InvalidArgumentError("Metaspace: unknown prepend_scheme " + *s);
    }
  } else if (!json_util::BoolOr(j, "add_prefix_space", true)) {
    scheme = PrependScheme::kNever;  // legacy configs
  }
  return New<Metaspace>(replacement, scheme, json_util::BoolOr(j, "split", true));
}

}  // namespace

StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const nlohmann::json& j) {
  SG_ASSIGN_OR_RETURN(std::string type, json_util::TypeOf(j, "pre_tokenizer"));
  if (type == "ByteLevel") {
    std::shared_ptr<const Regex> re;
    if (json_util::BoolOr(j, "use_regex", true)) {
      SG_ASSIGN_OR_RETURN(re, Regex::Compile(kGpt2Pattern));
    }
    return New<ByteLevel>(json_util::BoolOr(j, "add_prefix_space", true), std::move(re));
  }
  if (type == "Split") return MakeSplit(j);
  if (type == "Metaspace") return MakeMetaspace(j);
  if (type == "Digits") {
    auto numeric = [](uint32_t cp) { return utf8::IsNumeric(cp); };
    return MakeCharSplit(numeric, json_util::BoolOr(j, "individual_digits", false)
                                      ? SplitBehavior::kIsolated
                                      : SplitBehavior::kContiguous);
  }
  if (type == "Whitespace") {
    // HF keeps the matches of \w+|[^\w\s]+ and drops the rest.
    SG_ASSIGN_OR_RETURN(auto re, Regex::Compile(R"(\w+|[^\w\s]+)"));
    return New<Split>("", std::move(re), SplitBehavior::kRemoved, true);
  }
  if (type == "WhitespaceSplit") {
    auto ws = [](uint32_t cp) { return utf8::IsWhitespace(cp); };
    return MakeCharSplit(ws, SplitBehavior::kRemoved);
  }
  if (type == "Punctuation") {
    std::optional<SplitBehavior> behavior =
        ParseSplitBehavior(json_util::StringOr(j, "behavior", "Isolated"));
    if (!behavior) return InvalidArgumentError("Punctuation pre-tokenizer: unknown behavior");
    auto punct = [](uint32_t cp) { return utf8::IsPunctuation(cp); };
    return MakeCharSplit(punct, *behavior);
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    auto ws = [](uint32_t cp) { return utf8::IsWhitespace(cp); };
    auto punct = [](uint32_t cp) { return utf8::IsPunctuation(cp); };
    parts.push_back(MakeCharSplit(ws, SplitBehavior::kRemoved));
    parts.push_back(MakeCharSplit(punct, SplitBehavior::kIsolated));
    return New<SequencePreTokenizer>(std::move(parts));
  }
  if (type == "CharDelimiterSplit") {
    std::string d = json_util::StringOr(j, "delimiter", "");
    if (d.empty()) return InvalidArgumentError("CharDelimiterSplit: missing delimiter");
    return New<Split>(d, nullptr, SplitBehavior::kRemoved, false);
  }
  if (type == "Sequence") {
    const nlohmann::json* list = json_util::Member(j, "pretokenizers");
    if (list == nullptr || !list->is_array()) {
      return InvalidArgumentError("Sequence pre-tokenizer: missing \"pretokenizers\" array");
    }
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (const auto& item : *list) {
      SG_ASSIGN_OR_RETURN(auto p, PreTokenizerFromJson(item));
      parts.push_back(std::move(p));
    }
    return New<SequencePreTokenizer>(std::move(parts));
  }
  return UnimplementedError("pre_tokenizer type " + type);
}

}  // namespace sg
