#include "engine/text/post_processors.h"

#include <algorithm>
#include <string>
#include <vector>

#include "engine/text/json_util.h"
#include "engine/text/utf8.h"

namespace sg {
namespace {

// make_unique returning the interface type, so it converts to StatusOr in one step.
template <typename T, typename... A>
std::unique_ptr<PostProcessor> New(A&&... a) {
  return std::make_unique<T>(std::forward<A>(a)...);
}

// A template for single sequences: special ids before and after the sequence.
// HF's byte_level process_offsets: offsets lose the leading / trailing spaces ("Ġ" or
// whitespace) of their token, except the single space add_prefix_space put before the first.
void TrimOffsets(Encoding& enc, bool add_prefix_space, const PieceFn& piece) {
  auto is_space = [](uint32_t cp) { return cp == 0x120 || utf8::IsWhitespace(cp); };
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    std::string_view tok = piece(enc.ids[i]);
    uint32_t lead = 0, trail = 0;
    for (size_t k = 0; k < tok.size();) {
      if (!is_space(utf8::Next(tok, k))) break;
      ++lead;
    }
    for (size_t k = tok.size(); k > 0;) {
      if (!is_space(utf8::Prev(tok, k))) break;
      ++trail;
    }
    auto& [b, e] = enc.offsets[i];
    if (lead > 0) {
      bool first = i == 0 || b == 0;
      if (first && add_prefix_space && lead == 1) lead = 0;
      b = std::min(b + lead, e);
    }
    if (trail > 0 && e >= trail) e = std::max(e - trail, b);
  }
}

class Template : public PostProcessor {
 public:
  Template(std::vector<int32_t> before, std::vector<int32_t> after, bool trim = false,
           bool add_prefix_space = false)
      : before_(std::move(before)),
        after_(std::move(after)),
        trim_(trim),
        add_prefix_space_(add_prefix_space) {}
  void Process(Encoding& enc, bool add_special_tokens, const PieceFn& piece) const override {
    if (trim_) TrimOffsets(enc, add_prefix_space_, piece);
    if (!add_special_tokens || (before_.empty() && after_.empty())) return;
    Encoding out;
    out.ids.reserve(enc.ids.size() + before_.size() + after_.size());
    out.offsets.reserve(out.ids.capacity());
    for (int32_t id : before_) {
      out.ids.push_back(id);
      out.offsets.emplace_back(0, 0);
    }
    out.ids.insert(out.ids.end(), enc.ids.begin(), enc.ids.end());
    out.offsets.insert(out.offsets.end(), enc.offsets.begin(), enc.offsets.end());
    for (int32_t id : after_) {
      out.ids.push_back(id);
      out.offsets.emplace_back(0, 0);
    }
    enc = std::move(out);
  }

 private:
  std::vector<int32_t> before_, after_;
  bool trim_, add_prefix_space_;
};

// ByteLevel's post-processing only trims offsets (trim_offsets); ids are unchanged.
class ByteLevelProcessor : public PostProcessor {
 public:
  ByteLevelProcessor(bool trim, bool add_prefix_space)
      : trim_(trim), add_prefix_space_(add_prefix_space) {}
  void Process(Encoding& enc, bool, const PieceFn& piece) const override {
    if (trim_) TrimOffsets(enc, add_prefix_space_, piece);
  }

 private:
  bool trim_, add_prefix_space_;
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> parts)
      : parts_(std::move(parts)) {}
  void Process(Encoding& enc, bool add_special_tokens, const PieceFn& piece) const override {
    for (const auto& p : parts_) p->Process(enc, add_special_tokens, piece);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

StatusOr<std::unique_ptr<PostProcessor>> MakeTemplate(const nlohmann::json& j) {
  const nlohmann::json* single = json_util::Member(j, "single");
  const nlohmann::json* specials = json_util::Member(j, "special_tokens");
  if (single == nullptr || !single->is_array()) {
    return InvalidArgumentError("TemplateProcessing: \"single\" must be an array");
  }
  std::vector<int32_t> before, after;
  bool seen_sequence = false;
  for (const auto& item : *single) {
    if (json_util::Member(item, "Sequence") != nullptr) {
      seen_sequence = true;
      continue;
    }
    const nlohmann::json* sp = json_util::Member(item, "SpecialToken");
    std::optional<std::string> name = sp ? json_util::String(*sp, "id") : std::nullopt;
    if (!name) return InvalidArgumentError("TemplateProcessing: bad template item");
    const nlohmann::json* entry = specials ? json_util::Member(*specials, *name) : nullptr;
    const nlohmann::json* ids = entry ? json_util::Member(*entry, "ids") : nullptr;
    if (ids == nullptr || !ids->is_array()) {
      return InvalidArgumentError("TemplateProcessing: special token " + *name + " undefined");
    }
    for (const auto& id : *ids) {
      if (!id.is_number_integer()) return InvalidArgumentError("TemplateProcessing: bad id");
      (seen_sequence ? after : before).push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
  }
  return New<Template>(std::move(before), std::move(after));
}

// RobertaProcessing / BertProcessing: "cls": [token, id], "sep": [token, id].
StatusOr<std::unique_ptr<PostProcessor>> MakeClsSep(const nlohmann::json& j) {
  auto id_of = [&](const char* key) -> std::optional<int32_t> {
    const nlohmann::json* p = json_util::Member(j, key);
    if (p == nullptr || !p->is_array() || p->size() != 2 || !(*p)[1].is_number_integer()) {
      return std::nullopt;
    }
    return static_cast<int32_t>((*p)[1].get<int64_t>());
  };
  std::optional<int32_t> cls = id_of("cls"), sep = id_of("sep");
  if (!cls || !sep) return InvalidArgumentError("post_processor: bad \"cls\" / \"sep\"");
  // Roberta trims offsets like ByteLevel (trim_offsets defaults on); Bert has no such option.
  bool roberta = json_util::StringOr(j, "type", "") == "RobertaProcessing";
  return New<Template>(std::vector<int32_t>{*cls}, std::vector<int32_t>{*sep},
                       roberta && json_util::BoolOr(j, "trim_offsets", true),
                       json_util::BoolOr(j, "add_prefix_space", true));
}

}  // namespace

StatusOr<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const nlohmann::json& j) {
  SG_ASSIGN_OR_RETURN(std::string type, json_util::TypeOf(j, "post_processor"));
  if (type == "TemplateProcessing") return MakeTemplate(j);
  if (type == "ByteLevel") {
    return New<ByteLevelProcessor>(json_util::BoolOr(j, "trim_offsets", true),
                                   json_util::BoolOr(j, "add_prefix_space", true));
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") return MakeClsSep(j);
  if (type == "Sequence") {
    const nlohmann::json* list = json_util::Member(j, "processors");
    if (list == nullptr || !list->is_array()) {
      return InvalidArgumentError("Sequence post_processor: missing \"processors\" array");
    }
    std::vector<std::unique_ptr<PostProcessor>> parts;
    for (const auto& item : *list) {
      SG_ASSIGN_OR_RETURN(auto p, PostProcessorFromJson(item));
      parts.push_back(std::move(p));
    }
    return New<SequenceProcessor>(std::move(parts));
  }
  return UnimplementedError("post_processor type " + type);
}

std::unique_ptr<PostProcessor> MakeBosEosProcessor(std::optional<int32_t> bos,
                                                   std::optional<int32_t> eos) {
  std::vector<int32_t> before, after;
  if (bos) before.push_back(*bos);
  if (eos) after.push_back(*eos);
  return New<Template>(std::move(before), std::move(after));
}

}  // namespace sg
