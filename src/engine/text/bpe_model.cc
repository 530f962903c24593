// Byte-pair encoding as HF `tokenizers` runs it: characters (or byte-fallback pieces) merged by
// lowest merge rank first, leftmost first among equal ranks; results cached per word.
#include <algorithm>
#include <array>
#include <cstdio>
#include <mutex>
#include <queue>
#include <shared_mutex>

#include "engine/text/json_util.h"
#include "engine/text/model.h"
#include "engine/text/utf8.h"

namespace sg {
namespace {

// Words longer than this are not cached (HF caches only short words too); the cache stops
// growing at kCacheCapacity entries.
constexpr size_t kMaxCachedWord = 256;
constexpr size_t kCacheCapacity = 100000;

struct MergeResult {
  int32_t rank;
  int32_t new_id;
};

class BpeModel : public TokenizerModel {
 public:
  const Vocab& vocab() const override { return vocab_; }

  void Tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    // The cache first: it is much smaller than the vocabulary, so frequent words stay hot.
    bool cacheable = word.size() <= kMaxCachedWord;
    if (cacheable) {
      std::shared_lock lock(cache_mu_);
      auto it = cache_.find(word);
      if (it != cache_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    size_t first = out.size();
    std::optional<int32_t> whole = ignore_merges_ ? vocab_.Find(word) : std::nullopt;
    if (whole) {
      out.push_back({*whole, 0, static_cast<uint32_t>(word.size())});
    } else {
      Merge(word, out);
    }
    if (cacheable) {
      std::unique_lock lock(cache_mu_);
      if (cache_.size() < kCacheCapacity) {
        cache_.emplace(
            std::string(word),
            std::vector<ModelToken>(out.begin() + static_cast<ptrdiff_t>(first), out.end()));
      }
    }
  }

  Status Init(const nlohmann::json& j);

 private:
  struct Symbol {
    int32_t id;
    int32_t prev, next;
    uint32_t begin, len;
    bool alive;
  };
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t new_id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };

  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  const MergeResult* FindMerge(int32_t a, int32_t b) const {
    auto it = merges_.find(Key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  }

  void InitialSymbols(std::string_view word, std::vector<Symbol>& syms) const;
  void Merge(std::string_view word, std::vector<ModelToken>& out) const;

  Vocab vocab_;
  std::unordered_map<uint64_t, MergeResult> merges_;
  std::optional<int32_t> unk_id_;
  std::string prefix_;  // continuing_subword_prefix
  std::string suffix_;  // end_of_word_suffix
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  std::array<int32_t, 256> byte_ids_{};  // "<0xXX>" ids, -1 if absent

  mutable std::shared_mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<ModelToken>, StringHash, std::equal_to<>>
      cache_;
};

void BpeModel::InitialSymbols(std::string_view word, std::vector<Symbol>& syms) const {
  bool affixes = !prefix_.empty() || !suffix_.empty();
  std::string buf;
  // A pending unknown span (fused with following unknown characters when fuse_unk).
  bool have_unk = false;
  Symbol unk{};
  auto push = [&](int32_t id, uint32_t begin, uint32_t len) {
    syms.push_back({id, 0, 0, begin, len, true});
  };
  size_t i = 0;
  while (i < word.size()) {
    size_t start = i;
    utf8::Next(word, i);
    std::string_view ch = word.substr(start, i - start);
    std::string_view key = ch;
    if (affixes) {
      buf.clear();
      if (start > 0) buf += prefix_;
      buf += ch;
      if (i == word.size()) buf += suffix_;
      key = buf;
    }
    uint32_t b = static_cast<uint32_t>(start), len = static_cast<uint32_t>(i - start);
    if (std::optional<int32_t> id = vocab_.Find(key)) {
      if (have_unk) {
        push(unk.id, unk.begin, unk.len);
        have_unk = false;
      }
      push(*id, b, len);
      continue;
    }
    if (byte_fallback_) {
      bool all = std::all_of(key.begin(), key.end(),
                             [&](char c) { return byte_ids_[static_cast<unsigned char>(c)] >= 0; });
      if (all) {
        // Byte pieces cover one source byte each; with affixes (no source bytes) each piece
        // covers the whole character.
        bool exact = key.size() == len;
        for (size_t k = 0; k < key.size(); ++k) {
          int32_t id = byte_ids_[static_cast<unsigned char>(key[k])];
          if (exact) {
            push(id, b + static_cast<uint32_t>(k), 1);
          } else {
            push(id, b, len);
          }
        }
        continue;
      }
    }
    if (unk_id_) {
      if (have_unk && fuse_unk_) {
        unk.len += len;
      } else {
        if (have_unk) push(unk.id, unk.begin, unk.len);
        unk = {*unk_id_, 0, 0, b, len, true};
        have_unk = true;
      }
    }
  }
  if (have_unk) push(unk.id, unk.begin, unk.len);
  // HF places symbols end to end in push order (a pending unknown pushed after byte-fallback
  // pieces shifts both), so offsets follow the same running sum.
  uint32_t at = 0;
  for (Symbol& s : syms) {
    s.begin = at;
    at += s.len;
  }
  for (size_t k = 0; k < syms.size(); ++k) {
    syms[k].prev = static_cast<int32_t>(k) - 1;
    syms[k].next = k + 1 < syms.size() ? static_cast<int32_t>(k + 1) : -1;
  }
}

void BpeModel::Merge(std::string_view word, std::vector<ModelToken>& out) const {
  std::vector<Symbol> syms;
  syms.reserve(word.size());
  InitialSymbols(word, syms);
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  for (size_t k = 0; k + 1 < syms.size(); ++k) {
    if (const MergeResult* m = FindMerge(syms[k].id, syms[k + 1].id)) {
      queue.push({m->rank, static_cast<int32_t>(k), m->new_id});
    }
  }
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& s = syms[static_cast<size_t>(top.pos)];
    if (!s.alive || s.next < 0) continue;
    Symbol& n = syms[static_cast<size_t>(s.next)];
    const MergeResult* m = FindMerge(s.id, n.id);
    if (m == nullptr || m->new_id != top.new_id) continue;  // stale entry
    s.id = top.new_id;
    s.len = n.begin + n.len - s.begin;
    n.alive = false;
    s.next = n.next;
    if (s.next >= 0) syms[static_cast<size_t>(s.next)].prev = top.pos;
    if (s.prev >= 0) {
      if (const MergeResult* pm = FindMerge(syms[static_cast<size_t>(s.prev)].id, s.id)) {
        queue.push({pm->rank, s.prev, pm->new_id});
      }
    }
    if (s.next >= 0) {
      if (const MergeResult* nm = FindMerge(s.id, syms[static_cast<size_t>(s.next)].id)) {
        queue.push({nm->rank, top.pos, nm->new_id});
      }
    }
  }
  for (const Symbol& s : syms) {
    if (s.alive) out.push_back({s.id, s.begin, s.begin + s.len});
  }
}

Status BpeModel::Init(const nlohmann::json& j) {
  const nlohmann::json* vocab = json_util::Member(j, "vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return InvalidArgumentError("BPE model: \"vocab\" must be an object");
  }
  vocab_.Reserve(vocab->size());
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer()) {
      return InvalidArgumentError("BPE model: id of \"" + it.key() + "\" is not an integer");
    }
    int64_t id = it.value().get<int64_t>();
    if (!IdInRange(id, vocab->size())) return InvalidArgumentError("BPE model: id out of range");
    vocab_.Add(it.key(), static_cast<int32_t>(id));
  }
  prefix_ = json_util::StringOr(j, "continuing_subword_prefix", "");
  suffix_ = json_util::StringOr(j, "end_of_word_suffix", "");
  byte_fallback_ = json_util::BoolOr(j, "byte_fallback", false);
  fuse_unk_ = json_util::BoolOr(j, "fuse_unk", false);
  ignore_merges_ = json_util::BoolOr(j, "ignore_merges", false);
  if (std::optional<std::string> unk = json_util::String(j, "unk_token")) {
    unk_id_ = vocab_.Find(*unk);
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    std::optional<int32_t> id = vocab_.Find(name);
    byte_ids_[static_cast<size_t>(b)] = id ? *id : -1;
  }
  const nlohmann::json* merges = json_util::Member(j, "merges");
  if (merges == nullptr || !merges->is_array()) {
    return InvalidArgumentError("BPE model: \"merges\" must be an array");
  }
  merges_.reserve(merges->size());
  std::string joined;
  int32_t rank = 0;
  for (const auto& m : *merges) {
    std::string_view a, b;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      size_t sp = s.find(' ');
      if (sp == std::string::npos) return InvalidArgumentError("BPE merge without space: " + s);
      a = std::string_view(s).substr(0, sp);
      b = std::string_view(s).substr(sp + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get_ref<const std::string&>();
      b = m[1].get_ref<const std::string&>();
    } else {
      return InvalidArgumentError("BPE merge is neither \"a b\" nor [a, b]");
    }
    std::optional<int32_t> ia = vocab_.Find(a), ib = vocab_.Find(b);
    std::string_view b_tail = b;
    if (!prefix_.empty() && b_tail.substr(0, prefix_.size()) == prefix_) {
      b_tail.remove_prefix(prefix_.size());
    }
    joined.assign(a);
    joined.append(b_tail);
    std::optional<int32_t> inew = vocab_.Find(joined);
    if (!ia || !ib || !inew) {
      return InvalidArgumentError("BPE merge \"" + std::string(a) + " " + std::string(b) +
                                  "\" uses a token outside the vocabulary");
    }
    // A repeated pair keeps its last rank, as HF's HashMap collected in merge order does.
    merges_.insert_or_assign(Key(*ia, *ib), MergeResult{rank, *inew});
    ++rank;
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<TokenizerModel>> BpeModelFromJson(const nlohmann::json& j) {
  auto model = std::make_unique<BpeModel>();
  SG_RETURN_IF_ERROR(model->Init(j));
  return std::unique_ptr<TokenizerModel>(std::move(model));
}

}  // namespace sg
