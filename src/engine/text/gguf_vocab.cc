// GGUF tokenizer.ggml.* -> Hugging Face tokenizer.json + tokenizer_config.json.
//
// Facts this follows (llama.cpp llama-vocab.cpp, transformers' convert_slow_tokenizer.py):
// - "llama" vocabularies are SentencePiece BPE: every split of a piece into two pieces is a merge,
//   ranked by the merged piece's score (descending), ties by the left then the right piece's id.
//   This reproduces transformers' LlamaConverter merges exactly (checked against llama2).
// - "gpt2" vocabularies carry their merges; tokenizer.ggml.pre selects the pre-tokenizer regexes.
//   Where the HF tokenizer.json has a regex, that one is used (llama.cpp rewrites (?i:...) for its
//   own engine); otherwise llama.cpp's list of regexes becomes a Sequence of Split(Isolated), which
//   is exactly how llama.cpp applies them (each regex splits the pieces of the previous one).
// - token_type: 2 unknown and 3 control -> special added tokens; 4 user-defined -> non-special
//   added tokens (llama.cpp matches them in raw text, hence normalized: false); 1, 5, 6 -> vocab.
// - add_bos/add_eos/add_space_prefix default as llama.cpp (SPM: BOS, space prefix; BPE: nothing,
//   except the llama3 family, which adds BOS); the GGUF keys override the defaults.
#include "engine/text/gguf_vocab.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sg {
namespace {

using json = nlohmann::json;

enum TokenType : int64_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// HF's own regexes (tokenizer.json) for the families whose tokenizer.json we know.
constexpr const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
constexpr const char* kTekkenRegex =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^"
    "\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}"
    "| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kGpt4oRegex =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'"
    "s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}"
    "\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/"
    "]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kPoroRegex = " ?[^(\\s|.,!?…。，、।۔،)]+";

// How one tokenizer.ggml.pre value pre-tokenizes a byte-level BPE vocabulary.
struct PreSpec {
  std::vector<std::string> regexes;    // each a Split(Isolated), applied in order
  bool gpt2_byte_level_regex = false;  // finish with ByteLevel(use_regex: true) instead of false
  bool nfc = false;                    // NFC normalizer (Qwen2's tokenizer.json has one)
  bool ignore_merges = false;
  bool add_bos = false;
  bool clean_spaces = true;
};

bool NameIn(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::optional<PreSpec> PreSpecFor(std::string_view pre) {
  PreSpec s;
  if (NameIn(pre, {"llama3", "llama-v3", "llama-bpe", "falcon3"})) {
    s.regexes = {kLlama3Regex};
    s.ignore_merges = true;
    s.add_bos = true;
  } else if (NameIn(pre, {"dbrx", "smaug-bpe", "chatglm-bpe"})) {
    s.regexes = {kLlama3Regex};
  } else if (NameIn(pre, {"qwen2", "deepseek-r1-qwen", "megrez"})) {
    s.regexes = {kQwen2Regex};
    s.nfc = true;
    s.clean_spaces = false;
  } else if (NameIn(pre, {"stablelm2", "hunyuan", "grok-2"})) {
    s.regexes = {kQwen2Regex};
  } else if (NameIn(pre, {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en",
                          "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe", "mpt", "olmo",
                          "jais", "trillion", "granite-docling", "a.x-4.0", "mellum"})) {
    s.gpt2_byte_level_regex = true;
  } else if (NameIn(pre, {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone",
                          "minerva-7b"})) {
    s.regexes = {"\\p{N}"};
    s.gpt2_byte_level_regex = true;
  } else if (pre == "deepseek-coder") {
    s.regexes = {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"};
    s.clean_spaces = false;
  } else if (pre == "deepseek-llm") {
    // Code points escaped: the cased-letter ranges end on compatibility characters (U+1F7D,
    // U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A) that any NFC pass over this file would corrupt.
    s.regexes = {
        "[\\r\\n]",
        "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
        "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
        "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-"
        "\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
        "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}"
        "\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}"
        "\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}"
        "\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-"
        "\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-"
        "\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}"
        "\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-"
        "\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
        "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}"
        "-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-"
        "\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-"
        "\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-"
        "\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-"
        "\\x{1E943}]+",
        "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
        "\\s+$",
        "[一-龥ࠀ-一가-퟿]+",
        "\\p{N}+"};
    s.clean_spaces = false;
  } else if (pre == "deepseek-v3") {
    s.regexes = {
        "\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?["
        "\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
    s.clean_spaces = false;
  } else if (pre == "falcon") {
    s.regexes = {"[\\p{P}\\$\\+<=>\\^~\\|`]+",
                 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
                 "[0-9][0-9][0-9]"};
  } else if (NameIn(pre, {"poro-chat", "bloom", "gpt3-finnish"})) {
    s.regexes = {kPoroRegex};
  } else if (pre == "viking") {
    s.regexes = {kPoroRegex, "\\p{N}"};
  } else if (pre == "tekken") {
    s.regexes = {kTekkenRegex};
    s.ignore_merges = true;
    s.clean_spaces = false;
  } else if (NameIn(pre, {"gpt-4o", "llama4"})) {
    s.regexes = {kGpt4oRegex};
    s.clean_spaces = false;
  } else if (pre.empty() || pre == "default") {
    // llama.cpp's fallback for a BPE vocabulary without a known pre-tokenizer.
    s.regexes = {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2Regex, "\\p{N}+", "[0-9][0-9][0-9]"};
  } else {
    return std::nullopt;
  }
  return s;
}

// The vocabulary arrays, checked.
struct GgufVocab {
  std::string model;
  std::string pre;
  std::vector<std::string_view> tokens;
  std::vector<float> scores;   // empty if absent
  std::vector<int64_t> types;  // kNormal if absent
  std::vector<std::string_view> merges;
};

Status ReadStringArray(const GgufFile& gguf, std::string_view key, bool required,
                       std::vector<std::string_view>* out) {
  const GgufValue* v = gguf.Find(key);
  if (v == nullptr) {
    if (required) return NotFoundError(gguf.path() + ": no " + std::string(key));
    return OkStatus();
  }
  const GgufArray* arr = v->AsArray();
  if (arr == nullptr || arr->elem_type != GgufType::kString) {
    return InvalidArgumentError(gguf.path() + ": " + std::string(key) + " is not a string array");
  }
  out->reserve(arr->items.size());
  for (const GgufValue& item : arr->items) {
    const std::string* s = item.AsString();
    if (s == nullptr) {
      return InvalidArgumentError(gguf.path() + ": " + std::string(key) + " has a non-string");
    }
    out->push_back(*s);
  }
  return OkStatus();
}

// A numeric array of exactly n items (or absent).
template <typename T, typename Get>
Status ReadNumberArray(const GgufFile& gguf, std::string_view key, size_t n, Get get,
                       std::vector<T>* out) {
  const GgufValue* v = gguf.Find(key);
  if (v == nullptr) return OkStatus();
  const GgufArray* arr = v->AsArray();
  if (arr == nullptr || arr->items.size() != n) {
    return InvalidArgumentError(gguf.path() + ": " + std::string(key) +
                                " is not an array with one entry per token");
  }
  out->reserve(n);
  for (const GgufValue& item : arr->items) {
    auto x = get(item);
    if (!x) return InvalidArgumentError(gguf.path() + ": " + std::string(key) + " bad entry");
    out->push_back(static_cast<T>(*x));
  }
  return OkStatus();
}

StatusOr<GgufVocab> ReadVocab(const GgufFile& gguf) {
  GgufVocab v;
  const GgufValue* model = gguf.Find("tokenizer.ggml.model");
  if (model == nullptr || model->AsString() == nullptr) {
    return NotFoundError(gguf.path() + ": no tokenizer.ggml.model");
  }
  v.model = *model->AsString();
  if (const GgufValue* pre = gguf.Find("tokenizer.ggml.pre"); pre && pre->AsString()) {
    v.pre = *pre->AsString();
  }
  SG_RETURN_IF_ERROR(ReadStringArray(gguf, "tokenizer.ggml.tokens", true, &v.tokens));
  if (v.tokens.empty() || v.tokens.size() > static_cast<size_t>(INT32_MAX)) {
    return InvalidArgumentError(gguf.path() + ": tokenizer.ggml.tokens is empty or too large");
  }
  const size_t n = v.tokens.size();
  SG_RETURN_IF_ERROR(ReadNumberArray<float>(
      gguf, "tokenizer.ggml.scores", n, [](const GgufValue& x) { return x.AsFloat(); }, &v.scores));
  SG_RETURN_IF_ERROR(ReadNumberArray<int64_t>(
      gguf, "tokenizer.ggml.token_type", n, [](const GgufValue& x) { return x.AsInt(); },
      &v.types));
  if (v.types.empty()) v.types.assign(n, kNormal);
  SG_RETURN_IF_ERROR(ReadStringArray(gguf, "tokenizer.ggml.merges", false, &v.merges));
  return v;
}

// A token id key, or nullopt if absent or out of range (llama.cpp ignores such ids too).
std::optional<int32_t> TokenIdKey(const GgufFile& gguf, std::string_view key, size_t n_tokens) {
  const GgufValue* v = gguf.Find(key);
  if (v == nullptr) return std::nullopt;
  std::optional<int64_t> id = v->AsInt();
  if (!id || *id < 0 || *id >= static_cast<int64_t>(n_tokens)) return std::nullopt;
  return static_cast<int32_t>(*id);
}

std::optional<bool> BoolKey(const GgufFile& gguf, std::string_view key) {
  const GgufValue* v = gguf.Find(key);
  return v ? v->AsBool() : std::nullopt;
}

// Length of the UTF-8 sequence starting with lead byte c (1 for invalid bytes, as Python would
// never see them: SentencePiece pieces are valid UTF-8).
size_t Utf8Len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;
}

// transformers' SentencePiece extractor: for every piece, every split at a character boundary
// into two vocabulary pieces is a merge; ordered by the merged piece's score (higher first), then
// by the left piece's id, then the right piece's id.
json SpmMerges(const GgufVocab& v) {
  std::unordered_map<std::string_view, int32_t> ids;
  ids.reserve(v.tokens.size() * 2);
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    ids.insert_or_assign(v.tokens[i], static_cast<int32_t>(i));  // last wins, like a Python dict
  }
  struct Merge {
    float score;
    int32_t left;
    int32_t right;
  };
  std::vector<Merge> merges;
  merges.reserve(v.tokens.size() * 2);
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    std::string_view piece = v.tokens[i];
    if (piece.size() < 2) continue;
    float score = v.scores.empty() ? 0.0f : v.scores[i];
    if (std::isnan(score)) score = -INFINITY;  // keeps the sort's ordering strict
    for (size_t k = Utf8Len(piece[0]); k < piece.size(); k += Utf8Len(piece[k])) {
      auto l = ids.find(piece.substr(0, k));
      if (l == ids.end()) continue;
      auto r = ids.find(piece.substr(k));
      if (r == ids.end()) continue;
      merges.push_back({score, l->second, r->second});
    }
  }
  std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.left != b.left) return a.left < b.left;
    return a.right < b.right;
  });
  json out = json::array();
  auto& arr = out.get_ref<json::array_t&>();
  arr.reserve(merges.size());
  std::string s;
  for (const Merge& m : merges) {
    std::string_view l = v.tokens[m.left];
    std::string_view r = v.tokens[m.right];
    s.assign(l);
    s.push_back(' ');
    s.append(r);
    arr.emplace_back(s);
  }
  return out;
}

bool IsAddedType(int64_t type) {
  return type == kUnknown || type == kControl || type == kUserDefined;
}

// Phi-3 vocabularies: llama.cpp strips whitespace after the special tokens (as HF's rstrip
// flags do), except after <unk>, <s> and <|endoftext|>.
bool IsPhi3(const GgufFile& gguf) {
  const GgufValue* name = gguf.Find("general.name");
  if (name == nullptr || name->AsString() == nullptr) return false;
  std::string lower = *name->AsString();
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("phi-3") != std::string::npos || lower.find("phi3") != std::string::npos;
}

json AddedTokens(const GgufVocab& v, bool phi3) {
  json out = json::array();
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (!IsAddedType(v.types[i])) continue;
    std::string_view content = v.tokens[i];
    bool rstrip = phi3 && content != "<unk>" && content != "<s>" && content != "<|endoftext|>";
    out.push_back({{"id", static_cast<int32_t>(i)},
                   {"content", std::string(content)},
                   {"single_word", false},
                   {"lstrip", false},
                   {"rstrip", rstrip},
                   {"normalized", false},
                   {"special", v.types[i] != kUserDefined}});
  }
  return out;
}

// model.vocab: every token except, for byte-level vocabularies, the added ones (as HF's
// tokenizer.json files keep them out of the BPE model's vocabulary).
json Vocab(const GgufVocab& v, bool keep_added) {
  // Sorted first, then appended at the map's end: several times faster than tree insertion for
  // 150k pieces (nlohmann's object is a std::map).
  std::vector<std::pair<std::string_view, int32_t>> sorted;
  sorted.reserve(v.tokens.size());
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (!keep_added && IsAddedType(v.types[i])) continue;
    sorted.emplace_back(v.tokens[i], static_cast<int32_t>(i));
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  json vocab = json::object();
  auto& obj = vocab.get_ref<json::object_t&>();
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i].first == sorted[i - 1].first) continue;  // first id wins on repeats
    obj.emplace_hint(obj.end(), std::string(sorted[i].first), sorted[i].second);
  }
  return vocab;
}

json SplitIsolated(const std::string& regex) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", regex}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

json ByteLevel(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", add_prefix_space},
          {"trim_offsets", trim_offsets},
          {"use_regex", use_regex}};
}

// TemplateProcessing adding BOS and/or EOS around each sequence (HF's Llama layout), or null.
json BosEosTemplate(const GgufVocab& v, std::optional<int32_t> bos, std::optional<int32_t> eos,
                    bool add_bos, bool add_eos) {
  if (!(add_bos && bos) && !(add_eos && eos)) return nullptr;
  json special = json::object();
  auto piece = [&](int32_t id, int type_id) {
    std::string content(v.tokens[id]);
    special[content] = {{"id", content}, {"ids", {id}}, {"tokens", {content}}};
    return json{{"SpecialToken", {{"id", content}, {"type_id", type_id}}}};
  };
  json single = json::array();
  json pair = json::array();
  for (int seq = 0; seq < 2; ++seq) {
    json& t = seq == 0 ? single : pair;
    for (int part = 0; part <= seq; ++part) {
      if (add_bos && bos) t.push_back(piece(*bos, part));
      t.push_back({{"Sequence", {{"id", part == 0 ? "A" : "B"}, {"type_id", part}}}});
      if (add_eos && eos) t.push_back(piece(*eos, part));
    }
  }
  return {{"type", "TemplateProcessing"},
          {"single", std::move(single)},
          {"pair", std::move(pair)},
          {"special_tokens", std::move(special)}};
}

json BpeModel(json vocab, json merges, json unk_token, bool byte_fallback, bool ignore_merges) {
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", std::move(unk_token)},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", byte_fallback},
          {"byte_fallback", byte_fallback},
          {"ignore_merges", ignore_merges},
          {"vocab", std::move(vocab)},
          {"merges", std::move(merges)}};
}

json TokenText(const GgufVocab& v, std::optional<int32_t> id) {
  if (!id) return nullptr;
  return std::string(v.tokens[*id]);
}

}  // namespace

StatusOr<TokenizerJsonPair> TokenizerJsonFromGguf(const GgufFile& gguf) {
  SG_ASSIGN_OR_RETURN(GgufVocab v, ReadVocab(gguf));
  const size_t n = v.tokens.size();
  const bool spm = v.model == "llama";
  if (!spm && v.model != "gpt2") {
    return UnimplementedError(gguf.path() + ": tokenizer.ggml.model '" + v.model +
                              "' is not supported (llama and gpt2 are)");
  }

  // llama.cpp's SPM defaults are <unk>=0, <s>=1, </s>=2; a key overrides a default only when its
  // id is in range (llama.cpp warns and keeps the default otherwise).
  auto id_or = [&](std::string_view key, std::optional<int32_t> def) {
    std::optional<int32_t> id = TokenIdKey(gguf, key, n);
    if (id) return id;
    return def && *def < static_cast<int32_t>(n) ? def : std::nullopt;
  };
  std::optional<int32_t> bos =
      id_or("tokenizer.ggml.bos_token_id", spm ? 1 : std::optional<int32_t>());
  std::optional<int32_t> eos =
      id_or("tokenizer.ggml.eos_token_id", spm ? 2 : std::optional<int32_t>());
  std::optional<int32_t> unk =
      id_or("tokenizer.ggml.unknown_token_id", spm ? 0 : std::optional<int32_t>());
  std::optional<int32_t> pad = id_or("tokenizer.ggml.padding_token_id", std::nullopt);

  TokenizerJsonPair out;
  json& t = out.tokenizer;
  t["version"] = "1.0";
  t["truncation"] = nullptr;
  t["padding"] = nullptr;
  t["added_tokens"] = AddedTokens(v, IsPhi3(gguf));

  bool add_bos = false;
  bool add_eos = false;
  bool clean_spaces = false;
  if (spm) {
    add_bos = true;
    const bool space_prefix = BoolKey(gguf, "tokenizer.ggml.add_space_prefix").value_or(true);
    json replace = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}};
    if (space_prefix) {
      t["normalizer"] = {
          {"type", "Sequence"},
          {"normalizers", {{{"type", "Prepend"}, {"prepend", "▁"}}, std::move(replace)}}};
    } else {
      t["normalizer"] = std::move(replace);
    }
    t["pre_tokenizer"] = nullptr;
    json decoders = {{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}}};
    if (space_prefix) {
      decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    }
    t["decoder"] = {{"type", "Sequence"}, {"decoders", std::move(decoders)}};
    t["model"] = BpeModel(Vocab(v, /*keep_added=*/true), SpmMerges(v), TokenText(v, unk),
                          /*byte_fallback=*/true, /*ignore_merges=*/false);
  } else {
    std::optional<PreSpec> spec = PreSpecFor(v.pre);
    if (!spec) {
      return UnimplementedError(gguf.path() + ": tokenizer.ggml.pre '" + v.pre +
                                "' is not supported");
    }
    add_bos = spec->add_bos;
    clean_spaces = spec->clean_spaces;
    t["normalizer"] = spec->nfc ? json{{"type", "NFC"}} : json(nullptr);
    json pre = json::array();
    for (const std::string& re : spec->regexes) pre.push_back(SplitIsolated(re));
    pre.push_back(ByteLevel(false, true, spec->gpt2_byte_level_regex));
    t["pre_tokenizer"] = pre.size() == 1
                             ? std::move(pre[0])
                             : json{{"type", "Sequence"}, {"pretokenizers", std::move(pre)}};
    t["decoder"] = ByteLevel(true, true, true);
    json merges = json::array();
    auto& arr = merges.get_ref<json::array_t&>();
    arr.reserve(v.merges.size());
    for (std::string_view m : v.merges) arr.emplace_back(std::string(m));
    t["model"] = BpeModel(Vocab(v, /*keep_added=*/false), std::move(merges), TokenText(v, unk),
                          /*byte_fallback=*/false, spec->ignore_merges);
  }
  add_bos = BoolKey(gguf, "tokenizer.ggml.add_bos_token").value_or(add_bos);
  add_eos = BoolKey(gguf, "tokenizer.ggml.add_eos_token").value_or(add_eos);

  json templ = BosEosTemplate(v, bos, eos, add_bos, add_eos);
  if (spm) {
    t["post_processor"] = std::move(templ);
  } else if (templ.is_null()) {
    t["post_processor"] = ByteLevel(true, false, true);
  } else {
    t["post_processor"] = {{"type", "Sequence"},
                           {"processors", {ByteLevel(true, false, true), std::move(templ)}}};
  }

  json& c = out.config;
  c["tokenizer_class"] = spm ? "LlamaTokenizer" : "PreTrainedTokenizerFast";
  c["bos_token"] = TokenText(v, bos);
  c["eos_token"] = TokenText(v, eos);
  c["unk_token"] = TokenText(v, unk);
  c["pad_token"] = TokenText(v, pad);
  c["add_bos_token"] = add_bos;
  c["add_eos_token"] = add_eos;
  c["clean_up_tokenization_spaces"] = clean_spaces;
  if (spm) c["legacy"] = true;
  if (const GgufValue* tmpl = gguf.Find("tokenizer.chat_template"); tmpl && tmpl->AsString()) {
    c["chat_template"] = *tmpl->AsString();
  }
  return out;
}

}  // namespace sg
