#include "engine/text/normalizers.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/text/json_util.h"
#include "engine/text/regex.h"
#include "engine/text/utf8.h"

namespace sg {
namespace {

// make_unique returning the interface type, so it converts to StatusOr in one step.
template <typename T, typename... A>
std::unique_ptr<Normalizer> New(A&&... a) {
  return std::make_unique<T>(std::forward<A>(a)...);
}

// Unicode normalization through utf8proc. Normalization never crosses an extended grapheme
// cluster, so clusters that change are rewritten with every output byte aligned to the whole
// cluster, and unchanged ones keep their exact alignment.
class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(int options) : options_(options) {}

  void Normalize(NormalizedText& t) const override {
    // ASCII is invariant under every normalization form: the common case costs one scan.
    if (std::all_of(t.text.begin(), t.text.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
      return;
    }
    std::string whole;
    if (!Map(t.text, whole)) return;
    if (whole == t.text) return;
    NormalizedBuilder b(whole.size());
    size_t i = 0;
    std::string out;
    while (i < t.text.size()) {
      size_t start = i;
      utf8proc_int32_t state = 0;
      uint32_t prev = utf8::Next(t.text, i);
      while (i < t.text.size()) {
        size_t k = i;
        uint32_t cp = utf8::Next(t.text, k);
        if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev),
                                             static_cast<utf8proc_int32_t>(cp), &state)) {
          break;
        }
        prev = cp;
        i = k;
      }
      std::string_view cluster(t.text.data() + start, i - start);
      bool ascii = cluster.size() == 1 && static_cast<unsigned char>(cluster[0]) < 0x80;
      if (ascii || !Map(cluster, out) || out == cluster) {
        b.Copy(t, start, i);
      } else {
        AppendAligned(t, start, i, out, b);
      }
    }
    t = b.Finish(t.original_begin);
  }

 private:
  // Output character j aligns to input character min(j, M - 1) of the cluster: a composed
  // character keeps the first source character's span and a decomposition's extra characters
  // the last one's, which is what HF's per-character change list yields for these cases.
  static void AppendAligned(const NormalizedText& t, size_t begin, size_t end,
                            const std::string& out, NormalizedBuilder& b) {
    size_t in = begin, o = 0;
    ByteSpan span = t.OriginalRange(begin, end);
    while (o < out.size()) {
      if (in < end) {
        size_t k = in;
        utf8::Next(t.text, k);
        span = t.OriginalRange(in, k);
        in = k;
      }
      size_t ob = o;
      utf8::Next(out, o);
      b.Append(std::string_view(out).substr(ob, o - ob), span);
    }
  }

  bool Map(std::string_view in, std::string& out) const {
    utf8proc_uint8_t* dst = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(in.data()),
                                      static_cast<utf8proc_ssize_t>(in.size()), &dst,
                                      static_cast<utf8proc_option_t>(options_));
    if (n < 0) return false;
    out.assign(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
    std::free(dst);
    return true;
  }
  int options_;
};

// Maps each character through F (one code point to one), keeping per-character alignment.
template <typename F>
void MapChars(NormalizedText& t, F f) {
  NormalizedBuilder b(t.text.size());
  std::string tmp;
  size_t i = 0;
  while (i < t.text.size()) {
    size_t start = i;
    uint32_t cp = utf8::Next(t.text, i);
    uint32_t mapped = f(cp);
    if (mapped == cp) {
      b.Copy(t, start, i);
    } else if (mapped != 0xFFFFFFFFu) {
      tmp.clear();
      utf8::Append(mapped, tmp);
      b.Append(tmp, t.OriginalRange(start, i));
    }  // 0xFFFFFFFF: drop the character
  }
  t = b.Finish(t.original_begin);
}

class Lowercase : public Normalizer {
 public:
  void Normalize(NormalizedText& t) const override {
    MapChars(t, [](uint32_t cp) {
      if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
      return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
    });
  }
};

// NFD first, then drops nonspacing marks (HF StripAccents assumes a decomposed input).
class StripAccents : public Normalizer {
 public:
  void Normalize(NormalizedText& t) const override {
    MapChars(t, [](uint32_t cp) {
      if (cp < 0x80) return cp;
      return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_MN
                 ? 0xFFFFFFFFu
                 : cp;
    });
  }
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string s) : s_(std::move(s)) {}
  void Normalize(NormalizedText& t) const override {
    if (!t.text.empty()) t.Prepend(s_);
  }

 private:
  std::string s_;
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void Normalize(NormalizedText& t) const override {
    size_t b = 0, e = t.text.size();
    if (left_) {
      while (b < e) {
        size_t k = b;
        if (!utf8::IsWhitespace(utf8::Next(t.text, k))) break;
        b = k;
      }
    }
    if (right_) {
      while (e > b) {
        size_t k = e;
        if (!utf8::IsWhitespace(utf8::Prev(t.text, k))) break;
        e = k;
      }
    }
    if (b != 0 || e != t.text.size()) {
      uint32_t ob = t.original_begin;
      t = t.Slice(b, e);
      t.original_begin = ob;
    }
  }

 private:
  bool left_, right_;
};

class Replace : public Normalizer {
 public:
  Replace(std::string literal, std::shared_ptr<const Regex> re, std::string content)
      : literal_(std::move(literal)), re_(std::move(re)), content_(std::move(content)) {}
  void Normalize(NormalizedText& t) const override {
    if (!re_) {
      t.ReplaceAll(literal_, content_);
      return;
    }
    std::vector<std::pair<size_t, size_t>> m;
    re_->FindAll(t.text, m);
    if (m.empty()) return;
    NormalizedBuilder b(t.text.size());
    size_t prev = 0;
    for (auto [s, e] : m) {
      b.Copy(t, prev, s);
      b.Append(content_, t.OriginalRange(s, e));
      prev = e;
    }
    b.Copy(t, prev, t.text.size());
    t = b.Finish(t.original_begin);
  }

 private:
  std::string literal_;
  std::shared_ptr<const Regex> re_;
  std::string content_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts)
      : parts_(std::move(parts)) {}
  void Normalize(NormalizedText& t) const override {
    for (const auto& p : parts_) p->Normalize(t);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const nlohmann::json& j) {
  SG_ASSIGN_OR_RETURN(std::string type, json_util::TypeOf(j, "normalizer"));
  constexpr int kStable = UTF8PROC_STABLE;
  if (type == "NFC") return New<UnicodeNormalizer>(kStable | UTF8PROC_COMPOSE);
  if (type == "NFD") return New<UnicodeNormalizer>(kStable | UTF8PROC_DECOMPOSE);
  if (type == "NFKC") {
    return New<UnicodeNormalizer>(kStable | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
  }
  if (type == "NFKD") {
    return New<UnicodeNormalizer>(kStable | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
  }
  if (type == "Lowercase") return New<Lowercase>();
  if (type == "StripAccents") return New<StripAccents>();
  if (type == "Prepend") {
    std::optional<std::string> p = json_util::String(j, "prepend");
    if (!p) return InvalidArgumentError("Prepend normalizer: missing \"prepend\"");
    return New<Prepend>(*p);
  }
  if (type == "Strip") {
    return New<Strip>(json_util::BoolOr(j, "strip_left", true),
                      json_util::BoolOr(j, "strip_right", true));
  }
  if (type == "Replace") {
    const nlohmann::json* pattern = json_util::Member(j, "pattern");
    std::optional<std::string> content = json_util::String(j, "content");
    if (pattern == nullptr || !content) {
      return InvalidArgumentError("Replace normalizer: missing pattern or content");
    }
    if (std::optional<std::string> s = json_util::String(*pattern, "String")) {
      if (s->empty()) return InvalidArgumentError("Replace normalizer: empty pattern");
      return New<Replace>(*s, nullptr, *content);
    }
    if (std::optional<std::string> r = json_util::String(*pattern, "Regex")) {
      SG_ASSIGN_OR_RETURN(auto re, Regex::Compile(*r));
      return New<Replace>("", std::move(re), *content);
    }
    return InvalidArgumentError("Replace normalizer: pattern is neither String nor Regex");
  }
  if (type == "Sequence") {
    const nlohmann::json* list = json_util::Member(j, "normalizers");
    if (list == nullptr || !list->is_array()) {
      return InvalidArgumentError("Sequence normalizer: missing \"normalizers\" array");
    }
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (const auto& item : *list) {
      SG_ASSIGN_OR_RETURN(auto n, NormalizerFromJson(item));
      parts.push_back(std::move(n));
    }
    return New<SequenceNormalizer>(std::move(parts));
  }
  return UnimplementedError("normalizer type " + type);
}

}  // namespace sg
