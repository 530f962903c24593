// SentencePiece's Unigram model as HF `tokenizers` runs it: Viterbi over the pieces that start at
// each character boundary, unknown characters scored min_score - 10 and fused, optional byte
// fallback for pieces outside the vocabulary.
#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>

#include "engine/text/json_util.h"
#include "engine/text/model.h"
#include "engine/text/utf8.h"

namespace sg {
namespace {

constexpr double kUnkPenalty = 10.0;

class UnigramModel : public TokenizerModel {
 public:
  const Vocab& vocab() const override { return vocab_; }

  Status Init(const nlohmann::json& j) {
    const nlohmann::json* vocab = json_util::Member(j, "vocab");
    if (vocab == nullptr || !vocab->is_array()) {
      return InvalidArgumentError("Unigram model: \"vocab\" must be an array");
    }
    scores_.reserve(vocab->size());
    vocab_.Reserve(vocab->size());
    min_score_ = std::numeric_limits<double>::infinity();
    for (const auto& entry : *vocab) {
      if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() ||
          !entry[1].is_number()) {
        return InvalidArgumentError("Unigram model: vocab entries must be [piece, score]");
      }
      const std::string& piece = entry[0].get_ref<const std::string&>();
      double score = entry[1].get<double>();
      vocab_.Add(piece, static_cast<int32_t>(scores_.size()));
      scores_.push_back(score);
      min_score_ = std::min(min_score_, score);
      max_len_ = std::max(max_len_, piece.size());
    }
    if (std::optional<int64_t> unk = json_util::Int(j, "unk_id")) {
      if (*unk < 0 || *unk >= static_cast<int64_t>(scores_.size())) {
        return InvalidArgumentError("Unigram model: unk_id out of range");
      }
      unk_id_ = static_cast<int32_t>(*unk);
    }
    byte_fallback_ = json_util::BoolOr(j, "byte_fallback", false);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      std::optional<int32_t> id = vocab_.Find(name);
      byte_ids_[static_cast<size_t>(b)] = id ? *id : -1;
    }
    return OkStatus();
  }

  void Tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    struct Node {
      int32_t id = -1;
      double score = 0;
      int64_t starts_at = -1;
    };
    size_t n = word.size();
    std::vector<Node> best(n + 1);
    best[0].starts_at = 0;  // sentinel: reachable
    double unk_score = min_score_ - kUnkPenalty;
    size_t pos = 0;
    while (pos < n) {
      size_t next = pos;
      utf8::Next(word, next);
      size_t mblen = next - pos;
      double here = best[pos].score;
      bool single = false;
      // Every vocabulary piece starting at POS and ending on a character boundary.
      size_t end = pos;
      while (end < n && end - pos < max_len_) {
        utf8::Next(word, end);
        if (end - pos > max_len_) break;
        std::optional<int32_t> id = vocab_.Find(word.substr(pos, end - pos));
        if (!id) continue;
        double cand = here + scores_[static_cast<size_t>(*id)];
        Node& t = best[end];
        if (t.starts_at < 0 || cand > t.score) t = {*id, cand, static_cast<int64_t>(pos)};
        if (end - pos == mblen) single = true;
      }
      if (!single) {
        Node& t = best[next];
        double cand = here + unk_score;
        if (t.starts_at < 0 || cand > t.score) {
          t = {unk_id_ ? *unk_id_ : -1, cand, static_cast<int64_t>(pos)};
        }
      }
      pos = next;
    }
    // Backtrack, fusing runs of unknowns into one token.
    std::vector<ModelToken> rev;
    size_t e = n;
    int64_t unk_end = -1;
    while (e > 0) {
      const Node& node = best[e];
      size_t s = static_cast<size_t>(node.starts_at);
      bool is_unk = node.id < 0 || (unk_id_ && node.id == *unk_id_);
      if (is_unk) {
        if (unk_end < 0) unk_end = static_cast<int64_t>(e);
      } else {
        if (unk_end >= 0) {
          rev.push_back({-1, static_cast<uint32_t>(e), static_cast<uint32_t>(unk_end)});
          unk_end = -1;
        }
        rev.push_back({node.id, static_cast<uint32_t>(s), static_cast<uint32_t>(e)});
      }
      e = s;
    }
    if (unk_end >= 0) rev.push_back({-1, 0, static_cast<uint32_t>(unk_end)});
    for (size_t k = rev.size(); k-- > 0;) EmitToken(word, rev[k], out);
  }

 private:
  void EmitToken(std::string_view word, ModelToken t, std::vector<ModelToken>& out) const {
    if (t.id >= 0) {
      out.push_back(t);
      return;
    }
    std::string_view s = word.substr(t.begin, t.end - t.begin);
    if (std::optional<int32_t> id = vocab_.Find(s)) {
      out.push_back({*id, t.begin, t.end});
      return;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : s) all = all && byte_ids_[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        for (uint32_t k = t.begin; k < t.end; ++k) {
          out.push_back({byte_ids_[static_cast<unsigned char>(word[k])], k, k + 1});
        }
        return;
      }
    }
    if (unk_id_) out.push_back({*unk_id_, t.begin, t.end});
  }

  Vocab vocab_;
  std::vector<double> scores_;
  double min_score_ = 0;
  size_t max_len_ = 0;
  std::optional<int32_t> unk_id_;
  bool byte_fallback_ = false;
  std::array<int32_t, 256> byte_ids_{};
};

}  // namespace

StatusOr<std::unique_ptr<TokenizerModel>> UnigramModelFromJson(const nlohmann::json& j) {
  auto model = std::make_unique<UnigramModel>();
  SG_RETURN_IF_ERROR(model->Init(j));
  return std::unique_ptr<TokenizerModel>(std::move(model));
}

}  // namespace sg
