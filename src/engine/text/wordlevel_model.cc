// WordLevel: each pre-tokenized word is one token, or the unknown token.
#include "engine/text/json_util.h"
#include "engine/text/model.h"

namespace sg {
namespace {

class WordLevelModel : public TokenizerModel {
 public:
  const Vocab& vocab() const override { return vocab_; }

  Status Init(const nlohmann::json& j) {
    const nlohmann::json* vocab = json_util::Member(j, "vocab");
    if (vocab == nullptr || !vocab->is_object()) {
      return InvalidArgumentError("WordLevel model: \"vocab\" must be an object");
    }
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      if (!it.value().is_number_integer() || !IdInRange(it.value().get<int64_t>(), vocab->size())) {
        return InvalidArgumentError("WordLevel model: bad id of \"" + it.key() + "\"");
      }
      vocab_.Add(it.key(), static_cast<int32_t>(it.value().get<int64_t>()));
    }
    unk_id_ = vocab_.Find(json_util::StringOr(j, "unk_token", "<unk>"));
    return OkStatus();
  }

  void Tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    std::optional<int32_t> id = vocab_.Find(word);
    if (!id) id = unk_id_;
    if (id) out.push_back({*id, 0, static_cast<uint32_t>(word.size())});
  }

 private:
  Vocab vocab_;
  std::optional<int32_t> unk_id_;
};

}  // namespace

StatusOr<std::unique_ptr<TokenizerModel>> WordLevelModelFromJson(const nlohmann::json& j) {
  auto model = std::make_unique<WordLevelModel>();
  SG_RETURN_IF_ERROR(model->Init(j));
  return std::unique_ptr<TokenizerModel>(std::move(model));
}

}  // namespace sg
