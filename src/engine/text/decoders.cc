#include "engine/text/decoders.h"

#include <utility>

#include "engine/text/byte_level.h"
#include "engine/text/json_util.h"
#include "engine/text/regex.h"
#include "engine/text/string_replace.h"
#include "engine/text/utf8.h"

namespace sg {
namespace {

// make_unique returning the interface type, so it converts to StatusOr in one step.
template <typename T, typename... A>
std::unique_ptr<Decoder> New(A&&... a) {
  return std::make_unique<T>(std::forward<A>(a)...);
}

// Bytes of every token mapped back through GPT-2's table; a token with a character outside the
// table keeps its own UTF-8 bytes (added tokens). The result is one lossy-decoded string.
class ByteLevelDecoder : public Decoder {
 public:
  void Decode(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      size_t mark = bytes.size();
      size_t i = 0;
      bool ok = true;
      while (i < t.size()) {
        int b = ByteLevelByte(utf8::Next(t, i));
        if (b < 0) {
          ok = false;
          break;
        }
        bytes.push_back(static_cast<char>(b));
      }
      if (!ok) {
        bytes.resize(mark);
        bytes.append(t);
      }
    }
    tokens.assign(1, utf8::Lossy(bytes));
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void Decode(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      ReplaceAllIn(tokens[i], replacement_, i == 0 && strip_first_ ? "" : " ");
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// Runs of "<0xXX>" tokens become the bytes they name: one string if valid UTF-8, else one
// U+FFFD per byte (HF's rule).
class ByteFallbackDecoder : public Decoder {
 public:
  void Decode(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (utf8::IsValid(pending)) {
        out.push_back(pending);
      } else {
        for (size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (std::string& t : tokens) {
      int b = ByteFallbackByte(t);
      if (b >= 0) {
        pending.push_back(static_cast<char>(b));
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens.swap(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void Decode(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

// Removes up to START leading and STOP trailing occurrences of the character CONTENT per token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void Decode(std::vector<std::string>& tokens) const override {
    if (content_.empty()) return;
    for (std::string& t : tokens) {
      size_t b = 0, e = t.size();
      for (size_t k = 0;
           k < start_ && t.compare(b, content_.size(), content_) == 0 && b + content_.size() <= e;
           ++k) {
        b += content_.size();
      }
      for (size_t k = 0; k < stop_ && e >= b + content_.size() &&
                         t.compare(e - content_.size(), content_.size(), content_) == 0;
           ++k) {
        e -= content_.size();
      }
      t = t.substr(b, e - b);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::string literal, std::shared_ptr<const Regex> re, std::string content)
      : literal_(std::move(literal)), re_(std::move(re)), content_(std::move(content)) {}
  void Decode(std::vector<std::string>& tokens) const override {
    std::vector<std::pair<size_t, size_t>> m;
    for (std::string& t : tokens) {
      if (!re_) {
        ReplaceAllIn(t, literal_, content_);
        continue;
      }
      m.clear();
      re_->FindAll(t, m);
      if (m.empty()) continue;
      std::string out;
      size_t prev = 0;
      for (auto [b, e] : m) {
        out.append(t, prev, b - prev);
        out.append(content_);
        prev = e;
      }
      out.append(t, prev, std::string::npos);
      t.swap(out);
    }
  }

 private:
  std::string literal_;
  std::shared_ptr<const Regex> re_;
  std::string content_;
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void Decode(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i != 0) {
        if (!prefix_.empty() && t.compare(0, prefix_.size(), prefix_) == 0) {
          t.erase(0, prefix_.size());
        } else {
          t.insert(t.begin(), ' ');
        }
      }
      if (cleanup_) {
        static constexpr std::pair<const char*, const char*> kRules[] = {
            {" .", "."},   {" ?", "?"},     {" !", "!"},     {" ,", ","},
            {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},   {" do not", " don't"},
            {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
        };
        for (auto [from, to] : kRules) ReplaceAllIn(t, from, to);
      }
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

// BPEDecoder: the end-of-word suffix becomes a space (nothing after the last token).
class BpeSuffixDecoder : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void Decode(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      ReplaceAllIn(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
    }
  }

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts)
      : parts_(std::move(parts)) {}
  void Decode(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->Decode(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

int ByteFallbackByte(std::string_view piece) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  const int hi = hex(piece[3]), lo = hex(piece[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const nlohmann::json& j) {
  SG_ASSIGN_OR_RETURN(std::string type, json_util::TypeOf(j, "decoder"));
  if (type == "ByteLevel") return New<ByteLevelDecoder>();
  if (type == "Metaspace") {
    std::string rep = json_util::StringOr(j, "replacement", "\xE2\x96\x81");
    bool strip =
        json_util::StringOr(j, "prepend_scheme",
                            json_util::BoolOr(j, "add_prefix_space", true) ? "always" : "never") !=
        "never";
    return New<MetaspaceDecoder>(rep, strip);
  }
  if (type == "ByteFallback") return New<ByteFallbackDecoder>();
  if (type == "Fuse") return New<FuseDecoder>();
  if (type == "Strip") {
    std::optional<int64_t> start = json_util::Int(j, "start"), stop = json_util::Int(j, "stop");
    std::string content = json_util::StringOr(j, "content", " ");
    if (!start || !stop || *start < 0 || *stop < 0) {
      return InvalidArgumentError("Strip decoder: bad start/stop");
    }
    return New<StripDecoder>(content, static_cast<size_t>(*start), static_cast<size_t>(*stop));
  }
  if (type == "Replace") {
    const nlohmann::json* pattern = json_util::Member(j, "pattern");
    std::optional<std::string> content = json_util::String(j, "content");
    if (pattern == nullptr || !content) {
      return InvalidArgumentError("Replace decoder: missing pattern or content");
    }
    if (std::optional<std::string> s = json_util::String(*pattern, "String")) {
      return New<ReplaceDecoder>(*s, nullptr, *content);
    }
    if (std::optional<std::string> r = json_util::String(*pattern, "Regex")) {
      SG_ASSIGN_OR_RETURN(auto re, Regex::Compile(*r));
      return New<ReplaceDecoder>("", std::move(re), *content);
    }
    return InvalidArgumentError("Replace decoder: pattern is neither String nor Regex");
  }
  if (type == "WordPiece") {
    return New<WordPieceDecoder>(json_util::StringOr(j, "prefix", "##"),
                                 json_util::BoolOr(j, "cleanup", true));
  }
  if (type == "BPEDecoder") {
    return New<BpeSuffixDecoder>(json_util::StringOr(j, "suffix", "</w>"));
  }
  if (type == "Sequence") {
    const nlohmann::json* list = json_util::Member(j, "decoders");
    if (list == nullptr || !list->is_array()) {
      return InvalidArgumentError("Sequence decoder: missing \"decoders\" array");
    }
    std::vector<std::unique_ptr<Decoder>> parts;
    for (const auto& item : *list) {
      SG_ASSIGN_OR_RETURN(auto d, DecoderFromJson(item));
      parts.push_back(std::move(d));
    }
    return New<SequenceDecoder>(std::move(parts));
  }
  return UnimplementedError("decoder type " + type);
}

}  // namespace sg
