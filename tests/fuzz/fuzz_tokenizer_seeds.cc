// Writes the seed corpora of the tokenizer fuzz targets at run time (nothing big is committed):
//   fuzz_tokenizer_seeds <shared_dir> <json_corpus_dir> <encode_corpus_dir>
// fuzz_tokenizer_encode gets the golden test strings (every script, emoji, control characters,
// special-token literals), each behind a mode byte that varies tokenizer and flags.
// From each real tokenizer.json: a shrunken copy that keeps the whole pipeline (normalizer,
// pre-tokenizer, post-processor, decoder, a few added tokens) but only the first ids of the vocab
// and the merges among them, so a seed is a few KB and each run stays fast and far below the
// fuzzer's RSS limit; then variants with one pipeline stage removed, and truncated copies. Plus
// tiny hand-written Unigram and WordPiece models, for which refdata holds no real file.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

namespace {

using nlohmann::json;

constexpr int kKeptIds = 400;
constexpr size_t kKeptAddedTokens = 8;

bool Write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
  if (!f) std::fprintf(stderr, "fuzz_tokenizer_seeds: cannot write %s\n", path.c_str());
  return static_cast<bool>(f);
}

// The merge's two parts, whether stored as "a b" (older files) or ["a", "b"] (newer ones).
bool MergeParts(const json& merge, std::string* a, std::string* b) {
  if (merge.is_string()) {
    const std::string s = merge.get<std::string>();
    const size_t space = s.find(' ', 1);
    if (space == std::string::npos) return false;
    *a = s.substr(0, space);
    *b = s.substr(space + 1);
    return true;
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
    *a = merge[0].get<std::string>();
    *b = merge[1].get<std::string>();
    return true;
  }
  return false;
}

json Shrink(const json& full) {
  json out = full;
  json vocab = json::object();
  std::set<std::string> kept;
  for (const auto& [piece, id] : full["model"]["vocab"].items()) {
    if (id.is_number_integer() && id.get<int>() < kKeptIds) {
      vocab[piece] = id;
      kept.insert(piece);
    }
  }
  json merges = json::array();
  for (const json& merge : full["model"]["merges"]) {
    std::string a, b;
    if (MergeParts(merge, &a, &b) && kept.count(a) && kept.count(b) && kept.count(a + b)) {
      merges.push_back(merge);
    }
  }
  out["model"]["vocab"] = std::move(vocab);
  out["model"]["merges"] = std::move(merges);
  json added = json::array();
  for (const json& token : full["added_tokens"]) {
    if (added.size() == kKeptAddedTokens) break;
    added.push_back(token);
  }
  out["added_tokens"] = std::move(added);
  return out;
}

const char* const kHandWritten[] = {
    R"({"version":"1.0","added_tokens":[{"id":0,"content":"<unk>","single_word":false,
        "lstrip":false,"rstrip":false,"normalized":false,"special":true}],
        "normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},
          {"type":"Replace","pattern":{"String":" "},"content":"\u2581"}]},
        "pre_tokenizer":{"type":"Metaspace","replacement":"\u2581","prepend_scheme":"always",
          "split":true},
        "post_processor":null,
        "decoder":{"type":"Metaspace","replacement":"\u2581","prepend_scheme":"always",
          "split":true},
        "model":{"type":"Unigram","unk_id":0,"byte_fallback":false,"vocab":[["<unk>",0.0],
          ["\u2581",-2.0],["\u2581a",-3.0],["a",-3.5],["b",-4.0],["ab",-2.5],["c",-5.0]]}})",
    R"({"version":"1.0","added_tokens":[{"id":0,"content":"[UNK]","single_word":false,
        "lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,
        "content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,
        "special":true},{"id":2,"content":"[SEP]","single_word":false,"lstrip":false,
        "rstrip":false,"normalized":false,"special":true}],
        "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,
          "strip_accents":null,"lowercase":true},
        "pre_tokenizer":{"type":"BertPreTokenizer"},
        "post_processor":{"type":"BertProcessing","sep":["[SEP]",2],"cls":["[CLS]",1]},
        "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
        "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
          "max_input_chars_per_word":100,"vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"hello":3,
          "world":4,"##s":5,"un":6,"##able":7,",":8,"!":9}}})",
};

// One file per line of test_strings.jsonl: a mode byte, then the text.
bool WriteEncodeSeeds(const std::string& shared, const std::string& dir) {
  std::ifstream f(shared + "/refdata/golden/test_strings.jsonl", std::ios::binary);
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    const json row = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object() || !row.contains("text") || !row["text"].is_string()) continue;
    const std::string seed =
        std::string(1, static_cast<char>(n % 16)) + row["text"].get<std::string>();
    if (!Write(dir + "/golden-" + std::to_string(n++), seed)) return false;
  }
  std::printf("fuzz_tokenizer_seeds: %d seeds in %s\n", n, dir.c_str());
  return n > 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr,
                 "usage: fuzz_tokenizer_seeds <shared_dir> <json_corpus_dir> "
                 "<encode_corpus_dir>\n");
    return 2;
  }
  const std::string src = std::string(argv[1]) + "/refdata/tokenizers", dir = argv[2];
  if (!WriteEncodeSeeds(argv[1], argv[3])) return 1;
  int written = 0;
  for (const char* family : {"llama2", "mistral", "gpt2", "llama3", "qwen3"}) {
    std::ifstream f(src + "/" + family + "/tokenizer.json", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    const json full = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
    if (!full.is_object() || !full.contains("model") || !full["model"].is_object()) {
      std::fprintf(stderr, "fuzz_tokenizer_seeds: %s/%s/tokenizer.json unreadable\n", src.c_str(),
                   family);
      return 1;
    }
    const json small = Shrink(full);
    const std::string base = dir + "/" + family;
    const std::string text = small.dump();
    bool ok = Write(base + ".json", text);
    for (const char* stage : {"normalizer", "pre_tokenizer", "post_processor", "decoder"}) {
      json variant = small;
      variant[stage] = nullptr;
      ok = ok && Write(base + "-no-" + stage + ".json", variant.dump());
    }
    // Cut inside the vocabulary: the parser must reject it, never read past the end.
    ok = ok && Write(base + "-truncated.json", text.substr(0, text.size() * 2 / 3));
    if (!ok) return 1;
    written += 6;
  }
  int n = 0;
  for (const char* seed : kHandWritten) {
    if (!Write(dir + "/handwritten-" + std::to_string(n++) + ".json", seed)) return 1;
    ++written;
  }
  std::printf("fuzz_tokenizer_seeds: %d seeds in %s\n", written, dir.c_str());
  return 0;
}
