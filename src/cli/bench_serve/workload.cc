// Prompt construction. Synthetic prompt i is: the shared prefix (exactly P tokens, cut from one
// seeded text), then " <i>." (so no two prompts agree beyond the prefix), then seeded words cut so
// the whole prompt has exactly P + input_len tokens.
#include "cli/bench_serve/workload.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

namespace sg::benchserve {
namespace {

constexpr std::array<const char*, 96> kWords = {
    "the",    "and",     "of",      "to",      "my",     "lord",   "king",    "is",     "that",
    "with",   "not",     "your",    "be",      "for",    "his",    "this",    "have",   "me",
    "him",    "what",    "so",      "will",    "thou",   "thy",    "all",     "her",    "but",
    "do",     "shall",   "our",     "good",    "are",    "no",     "love",    "we",     "from",
    "sir",    "now",     "come",    "more",    "heart",  "then",   "here",    "they",   "would",
    "well",   "night",   "there",   "say",     "man",    "let",    "how",     "make",   "us",
    "death",  "when",    "upon",    "know",    "may",    "like",   "hath",    "did",    "go",
    "speak",  "first",   "queen",   "blood",   "most",   "honour", "hand",    "give",   "time",
    "noble",  "duke",    "father",  "eyes",    "world",  "great",  "sweet",   "gentle", "fair",
    "crown",  "brother", "fortune", "truth",   "grace",  "house",  "friends", "name",   "heaven",
    "answer", "peace",   "morrow",  "soldier", "letter", "sword",
};
constexpr size_t kBytesPerTokenEstimate = 4;  // English text, when no counter is available
constexpr int kMaxLengthenings = 8;
constexpr int kMaxCutMoves = 8;
constexpr int kMinLenForMarker = 8;  // tokens after the prefix

std::string Capitalized(const char* w) {
  std::string s(w);
  s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

StatusOr<std::vector<std::string>> ReadPromptFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open prompt file " + path);
  std::vector<std::string> out;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.front() == '{') {  // JSONL
      nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object() || !j.contains("prompt") || !j["prompt"].is_string()) {
        return InvalidArgumentError(path + ":" + std::to_string(n) +
                                    ": a JSON line needs a string \"prompt\" field");
      }
      out.push_back(j["prompt"].get<std::string>());
    } else {
      out.push_back(line);
    }
  }
  if (out.empty()) return InvalidArgumentError("prompt file " + path + " has no prompts");
  return out;
}

// The prefix's token ids, to check each prompt against.
StatusOr<std::vector<int64_t>> Ids(const TokenCounter& counter, const std::string& text) {
  SG_ASSIGN_OR_RETURN(std::vector<TokenSpan> spans, counter.count(text));
  std::vector<int64_t> ids;
  for (const TokenSpan& s : spans) ids.push_back(s.id);
  return ids;
}

}  // namespace

std::string SyntheticText(uint64_t seed, size_t min_chars) {
  std::mt19937_64 rng(seed);
  std::string out;
  bool sentence_start = true;
  while (out.size() < min_chars) {
    const char* w = kWords[rng() % kWords.size()];
    if (!out.empty() && out.back() != '\n') out.push_back(' ');
    out += sentence_start ? Capitalized(w) : std::string(w);
    sentence_start = false;
    const uint64_t r = rng() % 24;
    if (r == 0) {
      out += ".\n";
      sentence_start = true;
    } else if (r < 3) {
      out += ".";
      sentence_start = true;
    } else if (r < 5) {
      out += ",";
    }
  }
  return out;
}

StatusOr<std::string> FitToTokens(const std::string& head, uint64_t tail_seed, int tokens,
                                  const TokenCounter& counter) {
  if (tokens <= 0) return InvalidArgumentError("a prompt needs at least one token");
  const std::string sep = head.empty() ? "" : " ";
  size_t tail_chars = static_cast<size_t>(tokens) * 5 + 64;
  for (int attempt = 0; attempt < kMaxLengthenings; ++attempt, tail_chars *= 2) {
    const std::string full = head + sep + SyntheticText(tail_seed, tail_chars);
    SG_ASSIGN_OR_RETURN(std::vector<TokenSpan> spans, counter.count(full));
    if (spans.size() < static_cast<size_t>(tokens)) continue;
    size_t k = static_cast<size_t>(tokens);  // cut after the k-th token of `full`
    for (int move = 0; move < kMaxCutMoves && k >= 1 && k <= spans.size(); ++move) {
      const size_t cut = spans[k - 1].stop;
      if (cut < head.size()) break;  // the head alone is longer than asked
      const std::string candidate = full.substr(0, cut);
      SG_ASSIGN_OR_RETURN(std::vector<TokenSpan> again, counter.count(candidate));
      if (again.size() == static_cast<size_t>(tokens)) return candidate;
      k = again.size() > static_cast<size_t>(tokens) ? k - 1 : k + 1;
    }
    return InternalError("cannot cut a text at exactly " + std::to_string(tokens) +
                         " tokens (the tokenizer merges across every cut tried)");
  }
  return InternalError("could not make a text of " + std::to_string(tokens) + " tokens");
}

StatusOr<Workload> BuildWorkload(const WorkloadSpec& spec, const TokenCounter* counter) {
  Workload w;
  w.token_counts = counter ? counter->source : "none";
  w.shared_prefix_tokens = spec.shared_prefix_len;
  std::string prefix;
  const uint64_t prefix_seed = spec.seed * 1000003 + 7;
  if (spec.shared_prefix_len > 0) {
    if (counter) {
      SG_ASSIGN_OR_RETURN(prefix, FitToTokens("", prefix_seed, spec.shared_prefix_len, *counter));
    } else {
      prefix = SyntheticText(prefix_seed, spec.shared_prefix_len * kBytesPerTokenEstimate)
                   .substr(0, spec.shared_prefix_len * kBytesPerTokenEstimate);
    }
  }
  if (!spec.prompt_file.empty()) {
    w.source = "file " + spec.prompt_file;
    SG_ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadPromptFile(spec.prompt_file));
    for (std::string& line : lines) {
      w.prompts.push_back(prefix.empty() ? std::move(line) : prefix + " " + line);
    }
  } else {
    w.source = "synthetic";
    if (spec.input_len <= 0) return InvalidArgumentError("--input-len must be at least 1");
    for (size_t i = 0; i < spec.num_prompts; ++i) {
      // The index marker (2-3 tokens) is left out when the unique part is too short to hold it.
      const bool marker = !prefix.empty() && spec.input_len >= kMinLenForMarker;
      const std::string head = prefix + (marker ? " " + std::to_string(i) + "." : "");
      const uint64_t seed = spec.seed * 1000003 + 1000 + i;
      if (counter) {
        SG_ASSIGN_OR_RETURN(
            std::string p,
            FitToTokens(head, seed, spec.shared_prefix_len + spec.input_len, *counter));
        w.prompts.push_back(std::move(p));
      } else {
        const size_t chars = static_cast<size_t>(spec.input_len) * kBytesPerTokenEstimate;
        const std::string body = SyntheticText(seed, chars).substr(0, chars);
        w.prompts.push_back(head + (head.empty() ? "" : " ") + body);
      }
    }
  }
  std::vector<int64_t> prefix_ids;
  if (counter && !prefix.empty()) {
    SG_ASSIGN_OR_RETURN(prefix_ids, Ids(*counter, prefix));
  }
  for (const std::string& p : w.prompts) {
    if (!counter) {
      w.prompt_tokens.push_back(-1);
      continue;
    }
    SG_ASSIGN_OR_RETURN(std::vector<int64_t> ids, Ids(*counter, p));
    w.prompt_tokens.push_back(static_cast<int64_t>(ids.size()));
    if (ids.size() >= prefix_ids.size() &&
        std::equal(prefix_ids.begin(), prefix_ids.end(), ids.begin())) {
      ++w.prefix_exact;
    }
  }
  return w;
}

}  // namespace sg::benchserve
