#include "engine/text/chat_template_source.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/gguf.h"
#include "engine/text/gguf_vocab.h"
#include "engine/text/json_util.h"

namespace sg {
namespace {

namespace fs = std::filesystem;

StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read " + path.string());
  return ss.str();
}

// The parsed file, or null when it does not exist.
StatusOr<nlohmann::json> ReadJsonIfPresent(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return nlohmann::json();
  SG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(path.string() + ": not valid JSON");
  return j;
}

// A special-token setting: a string, or an AddedToken dict {"content": ...}.
std::optional<std::string> TokenString(const nlohmann::json& config, std::string_view key) {
  const nlohmann::json* v = json_util::Member(config, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  return json_util::String(*v, "content");
}

void ReadSpecialTokens(const nlohmann::json& config, ChatTemplateSource* out) {
  out->bos_token = TokenString(config, "bos_token");
  out->eos_token = TokenString(config, "eos_token");
  out->unk_token = TokenString(config, "unk_token");
  out->pad_token = TokenString(config, "pad_token");
}

// The "chat_template" member of CONFIG into *out; true if it held a template value.
bool FromConfigMember(const nlohmann::json& config, const std::string& origin,
                      ChatTemplateSource* out) {
  const nlohmann::json* v = json_util::Member(config, "chat_template");
  if (v == nullptr || !ReadChatTemplateValue(*v, out)) return false;
  out->origin = origin;
  return true;
}

}  // namespace

bool ReadChatTemplateValue(const nlohmann::json& value, ChatTemplateSource* out) {
  if (value.is_string()) {
    out->default_template = value.get<std::string>();
    out->tool_use_template.clear();
    return true;
  }
  if (!value.is_array()) return false;
  out->default_template.clear();
  out->tool_use_template.clear();
  for (const nlohmann::json& item : value) {
    std::optional<std::string> name = json_util::String(item, "name");
    std::optional<std::string> text = json_util::String(item, "template");
    if (!name || !text) continue;
    if (*name == "default") out->default_template = *text;
    if (*name == "tool_use") out->tool_use_template = *text;
  }
  return true;
}

StatusOr<ChatTemplateSource> LoadChatTemplateSource(const std::string& model_path,
                                                    const std::string& override_file) {
  ChatTemplateSource out;
  std::error_code ec;
  const fs::path p(model_path);
  const bool gguf = p.extension() == ".gguf";
  fs::path dir = fs::is_directory(p, ec) ? p : p.parent_path();

  nlohmann::json tokenizer_config;
  std::string gguf_template;
  if (gguf) {
    SG_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(model_path));
    SG_ASSIGN_OR_RETURN(TokenizerJsonPair pair, TokenizerJsonFromGguf(*file));
    tokenizer_config = std::move(pair.config);
    gguf_template = json_util::StringOr(tokenizer_config, "chat_template", "");
  } else {
    SG_ASSIGN_OR_RETURN(tokenizer_config, ReadJsonIfPresent(dir / "tokenizer_config.json"));
  }
  ReadSpecialTokens(tokenizer_config, &out);

  if (!override_file.empty()) {
    SG_ASSIGN_OR_RETURN(out.default_template, ReadFile(override_file));
    out.origin = "--chat-template " + override_file;
    return out;
  }
  if (gguf) {
    if (!gguf_template.empty()) {
      out.default_template = gguf_template;
      out.origin = "GGUF tokenizer.chat_template";
    }
    return out;
  }
  if (fs::is_regular_file(dir / "chat_template.jinja", ec)) {
    SG_ASSIGN_OR_RETURN(out.default_template, ReadFile(dir / "chat_template.jinja"));
    out.origin = (dir / "chat_template.jinja").string();
    return out;
  }
  SG_ASSIGN_OR_RETURN(nlohmann::json chat_json, ReadJsonIfPresent(dir / "chat_template.json"));
  if (FromConfigMember(chat_json, (dir / "chat_template.json").string(), &out)) return out;
  if (FromConfigMember(tokenizer_config, (dir / "tokenizer_config.json").string(), &out)) {
    return out;
  }
  SG_ASSIGN_OR_RETURN(nlohmann::json processor, ReadJsonIfPresent(dir / "processor_config.json"));
  FromConfigMember(processor, (dir / "processor_config.json").string(), &out);
  return out;
}

}  // namespace sg
