// BERT's WordPiece as HF `tokenizers` runs it: greedy longest match from the left, continuation
// pieces carry "##"; a word with any unmatched rest (or too long) becomes one unknown token.
#include "engine/text/json_util.h"
#include "engine/text/model.h"
#include "engine/text/utf8.h"

namespace sg {
namespace {

class WordPieceModel : public TokenizerModel {
 public:
  const Vocab& vocab() const override { return vocab_; }

  Status Init(const nlohmann::json& j) {
    const nlohmann::json* vocab = json_util::Member(j, "vocab");
    if (vocab == nullptr || !vocab->is_object()) {
      return InvalidArgumentError("WordPiece model: \"vocab\" must be an object");
    }
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      if (!it.value().is_number_integer() || !IdInRange(it.value().get<int64_t>(), vocab->size())) {
        return InvalidArgumentError("WordPiece model: bad id of \"" + it.key() + "\"");
      }
      vocab_.Add(it.key(), static_cast<int32_t>(it.value().get<int64_t>()));
    }
    unk_id_ = vocab_.Find(json_util::StringOr(j, "unk_token", "[UNK]"));
    prefix_ = json_util::StringOr(j, "continuing_subword_prefix", "##");
    max_chars_ = static_cast<size_t>(json_util::Int(j, "max_input_chars_per_word").value_or(100));
    return OkStatus();
  }

  void Tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    size_t chars = 0;
    for (size_t i = 0; i < word.size(); utf8::Next(word, i)) ++chars;
    auto unknown = [&] {
      if (unk_id_) out.push_back({*unk_id_, 0, static_cast<uint32_t>(word.size())});
    };
    if (chars > max_chars_) return unknown();
    size_t first = out.size();
    std::string buf;
    size_t start = 0;
    while (start < word.size()) {
      size_t end = word.size();
      std::optional<int32_t> found;
      while (start < end) {
        std::string_view sub = word.substr(start, end - start);
        if (start > 0) {
          buf.assign(prefix_);
          buf.append(sub);
          sub = buf;
        }
        found = vocab_.Find(sub);
        if (found) break;
        utf8::Prev(word, end);
      }
      if (!found) {
        out.resize(first);
        return unknown();
      }
      out.push_back({*found, static_cast<uint32_t>(start), static_cast<uint32_t>(end)});
      start = end;
    }
  }

 private:
  Vocab vocab_;
  std::optional<int32_t> unk_id_;
  std::string prefix_;
  size_t max_chars_ = 100;
};

}  // namespace

StatusOr<std::unique_ptr<TokenizerModel>> WordPieceModelFromJson(const nlohmann::json& j) {
  auto model = std::make_unique<WordPieceModel>();
  SG_RETURN_IF_ERROR(model->Init(j));
  return std::unique_ptr<TokenizerModel>(std::move(model));
}

}  // namespace sg
