#include "engine/text/json_util.h"
#include "engine/text/model.h"

namespace sg {

StatusOr<std::unique_ptr<TokenizerModel>> ModelFromJson(const nlohmann::json& j) {
  // Old tokenizer.json files may omit "type" for BPE; HF infers it from the merges key.
  std::string type = json_util::StringOr(j, "type", "");
  if (type.empty() && json_util::Member(j, "merges") != nullptr) type = "BPE";
  if (type == "BPE") return BpeModelFromJson(j);
  if (type == "Unigram") return UnigramModelFromJson(j);
  if (type == "WordPiece") return WordPieceModelFromJson(j);
  if (type == "WordLevel") return WordLevelModelFromJson(j);
  if (type.empty()) return InvalidArgumentError("model: missing \"type\"");
  return UnimplementedError("model type " + type);
}

}  // namespace sg
