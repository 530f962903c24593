// Tokenizer::FromJson / Tokenizer::Load: builds the HF pipeline from a tokenizer.json and applies
// the tokenizer_config.json settings that transformers layers on top of it.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/gguf.h"
#include "engine/text/gguf_vocab.h"
#include "engine/text/hf_tokenizer.h"
#include "engine/text/json_util.h"

namespace sg {
namespace {

// A special-token setting: a string, an AddedToken-like {"content": ...} object, or null.
std::optional<std::string> TokenSetting(const nlohmann::json& config, std::string_view key) {
  const nlohmann::json* v = json_util::Member(config, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  return json_util::String(*v, "content");
}

std::optional<bool> BoolSetting(const nlohmann::json& config, std::string_view key) {
  const nlohmann::json* v = json_util::Member(config, key);
  if (v == nullptr || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

// chat_template: a string, or a list of {"name", "template"} where "default" wins.
std::string ChatTemplate(const nlohmann::json& config) {
  const nlohmann::json* v = json_util::Member(config, "chat_template");
  if (v == nullptr) return "";
  if (v->is_string()) return v->get<std::string>();
  if (!v->is_array()) return "";
  std::string first;
  for (const auto& item : *v) {
    std::optional<std::string> t = json_util::String(item, "template");
    if (!t) continue;
    if (json_util::StringOr(item, "name", "") == "default") return *t;
    if (first.empty()) first = *t;
  }
  return first;
}

StatusOr<nlohmann::json> ReadJson(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read " + path.string());
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(path.string() + ": not valid JSON");
  return j;
}

}  // namespace

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(const nlohmann::json& tokenizer_json,
                                                         const nlohmann::json& config) {
  if (!tokenizer_json.is_object()) return InvalidArgumentError("tokenizer.json is not an object");
  TokenizerParts parts;
  auto present = [&](const char* key) -> const nlohmann::json* {
    const nlohmann::json* m = json_util::Member(tokenizer_json, key);
    return m == nullptr || m->is_null() ? nullptr : m;
  };
  // Real files nest components 3-4 levels deep; the factories recurse per level.
  constexpr size_t kMaxComponentDepth = 32;
  for (const char* key : {"normalizer", "pre_tokenizer", "post_processor", "decoder"}) {
    const nlohmann::json* m = present(key);
    if (m != nullptr && json_util::DepthUpTo(*m, kMaxComponentDepth) > kMaxComponentDepth) {
      return InvalidArgumentError(std::string("tokenizer.json: \"") + key +
                                  "\" nests deeper than " + std::to_string(kMaxComponentDepth) +
                                  " levels");
    }
  }
  if (const nlohmann::json* n = present("normalizer")) {
    SG_ASSIGN_OR_RETURN(parts.normalizer, NormalizerFromJson(*n));
  }
  if (const nlohmann::json* p = present("pre_tokenizer")) {
    SG_ASSIGN_OR_RETURN(parts.pre_tokenizer, PreTokenizerFromJson(*p));
  }
  const nlohmann::json* model = present("model");
  if (model == nullptr) return InvalidArgumentError("tokenizer.json has no model");
  SG_ASSIGN_OR_RETURN(parts.model, ModelFromJson(*model));
  if (const nlohmann::json* p = present("post_processor")) {
    SG_ASSIGN_OR_RETURN(parts.post_processor, PostProcessorFromJson(*p));
  }
  if (const nlohmann::json* d = present("decoder")) {
    SG_ASSIGN_OR_RETURN(parts.decoder, DecoderFromJson(*d));
  }
  static const nlohmann::json kNull;
  const nlohmann::json* added = present("added_tokens");
  SG_RETURN_IF_ERROR(
      parts.added.Init(added ? *added : kNull, parts.normalizer.get(), parts.model->vocab()));

  // Settings: token names resolve through the added tokens first, then the model vocabulary.
  auto id_of = [&](std::string_view key) -> std::optional<int32_t> {
    std::optional<std::string> name = TokenSetting(config, key);
    if (!name) return std::nullopt;
    if (std::optional<int32_t> id = parts.added.FindContent(*name)) return id;
    return parts.model->vocab().Find(*name);
  };
  TokenizerSettings& s = parts.settings;
  s.bos_token_id = id_of("bos_token");
  s.eos_token_id = id_of("eos_token");
  s.pad_token_id = id_of("pad_token");
  s.unk_token_id = id_of("unk_token");
  s.add_bos_token = BoolSetting(config, "add_bos_token");
  s.add_eos_token = BoolSetting(config, "add_eos_token");
  s.clean_up_tokenization_spaces =
      BoolSetting(config, "clean_up_tokenization_spaces").value_or(false);
  s.chat_template = ChatTemplate(config);
  // transformers (LlamaTokenizerFast.update_post_processor) rebuilds the template from these
  // flags when the config sets them: BOS defaults on, EOS off.
  if (s.add_bos_token || s.add_eos_token) {
    bool bos = s.add_bos_token.value_or(true), eos = s.add_eos_token.value_or(false);
    parts.post_processor = MakeBosEosProcessor(bos ? s.bos_token_id : std::nullopt,
                                               eos ? s.eos_token_id : std::nullopt);
  }
  return std::unique_ptr<Tokenizer>(new HfTokenizer(std::move(parts)));
}

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  if (!fs::exists(p, ec)) return NotFoundError("no such tokenizer path: " + path);
  if (p.extension() == ".gguf") {
    SG_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> gguf, GgufFile::Open(path));
    SG_ASSIGN_OR_RETURN(TokenizerJsonPair pair, TokenizerJsonFromGguf(*gguf));
    return FromJson(pair.tokenizer, pair.config);
  }
  fs::path tokenizer_path = p, dir = p.parent_path();
  if (fs::is_directory(p, ec)) {
    tokenizer_path = p / "tokenizer.json";
    dir = p;
  }
  SG_ASSIGN_OR_RETURN(nlohmann::json tokenizer, ReadJson(tokenizer_path));
  nlohmann::json config;
  fs::path config_path = dir / "tokenizer_config.json";
  if (fs::exists(config_path, ec)) {
    SG_ASSIGN_OR_RETURN(config, ReadJson(config_path));
  }
  return FromJson(tokenizer, config);
}

}  // namespace sg
