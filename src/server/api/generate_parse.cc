// GenerateRequest, CompatGenerateRequest, GenerateParameters and GrammarType, read as TGI's
// serde-derived structs (router/src/lib.rs at v3.3.7). Declaration order matters for the
// sequence form and for which missing field is reported first.
#include <string>

#include "server/api/chat_request.h"
#include "server/api/serde_struct.h"
#include "server/api/tgi_request.h"

namespace sg::api {
namespace {

constexpr std::string_view kVariants =
    "expected one of `json`, `json_object`, `regex`, `json_schema`";

// GrammarType's variant identifier (`"type"`): json (alias json_object), regex, json_schema.
bool ReadGrammarTag(SerdeReader& r, std::string* tag) {
  int c = 0;
  if (!r.PeekValue(&c)) return false;
  if (c != '"') return r.InvalidType("variant identifier");
  r.Eat();
  if (!r.ParseStr(tag)) return false;
  if (*tag == "json" || *tag == "json_object" || *tag == "regex" || *tag == "json_schema") {
    return true;
  }
  return r.DataError("unknown variant `" + *tag + "`, " + std::string(kVariants));
}

// The variant's content (`"value"`): Json(serde_json::Value), Regex(String),
// JsonSchema(JsonSchemaConfig { name: Option<String>, schema: Value }). `raw` gets the value's
// JSON text as sent (validation compiles it).
bool ReadGrammarContent(SerdeReader& r, const std::string& tag, std::string* raw) {
  int c = 0;
  if (!r.PeekValue(&c)) return false;
  const size_t start = r.index();
  bool ok = false;
  if (tag == "regex") {
    std::string regex;
    ok = r.ReadString(&regex);
  } else if (tag == "json_schema") {
    std::optional<std::string> name;
    const std::vector<FieldSpec> fields = {
        {"name", false, true, [&name](SerdeReader& q) { return ReadOptionalString(q, &name); }},
        {"schema", true, true, [](SerdeReader& q) { return q.SkipContent(); }},
    };
    ok = ReadStruct(r, "JsonSchemaConfig", fields);
  } else {
    ok = r.SkipContent();
  }
  if (ok) raw->assign(r.input().substr(start, r.index() - start));
  return ok;
}

enum class TagOrContent { kNone, kTag, kContent };

// serde's next_relevant_key for adjacently tagged enums: skips (and ignores) other keys.
bool NextRelevantKey(SerdeReader& r, bool* first, TagOrContent* out) {
  while (true) {
    bool has = false;
    if (!r.HasNextKey(first, &has)) return false;
    if (!has) {
      *out = TagOrContent::kNone;
      return true;
    }
    std::string key;
    if (!r.ReadKey(&key)) return false;
    if (key == "type" || key == "value") {
      *out = key == "type" ? TagOrContent::kTag : TagOrContent::kContent;
      return true;
    }
    if (!r.ParseColon()) return false;
    r.PushKey(key);
    const bool ok = r.IgnoreValue();
    r.Pop();
    if (!ok) return false;
  }
}

bool NoMoreTagOrContent(SerdeReader& r, bool* first) {
  TagOrContent next;
  if (!NextRelevantKey(r, first, &next)) return false;
  if (next == TagOrContent::kTag) return r.PendingDataError("duplicate field `type`");
  if (next == TagOrContent::kContent) return r.PendingDataError("duplicate field `value`");
  return true;
}

// The tag in the map form goes through serde_json's deserialize_enum (serde's
// AdjacentlyTaggedEnumVariantSeed): a string is the variant; `{"<variant>": null}` also works;
// anything else is the syntax error "expected value".
bool ReadTagAsEnum(SerdeReader& r, std::string* tag) {
  int c = 0;
  if (!r.PeekValue(&c)) return false;
  if (c == '"') return ReadGrammarTag(r, tag);
  if (c != '{') return r.SyntaxError("expected value", true);
  if (!r.Enter()) return false;
  r.Eat();
  if (r.PeekWs() != '"') return r.InvalidType("variant identifier");
  int unit = 0;
  bool is_null = false;
  if (!ReadGrammarTag(r, tag) || !r.ParseColon() || !r.PeekValue(&unit)) return false;
  if (unit != 'n') return r.InvalidType("unit");
  if (!r.ReadNull(&is_null)) return false;
  r.Leave();
  const int end = r.PeekWs();
  if (end == '}') {
    r.Eat();
    return true;
  }
  return r.SyntaxError(end < 0 ? "EOF while parsing an object" : "expected value", false);
}

bool ReadTagField(SerdeReader& r, std::string* tag) {
  if (!r.ParseColon()) return false;
  r.PushKey("type");
  const bool ok = ReadTagAsEnum(r, tag);
  r.Pop();
  return ok;
}

// `#[serde(tag = "type", content = "value")] enum GrammarType`, map form.
bool VisitGrammarMap(SerdeReader& r, std::string* tag, std::string* raw) {
  bool first = true;
  TagOrContent key;
  if (!NextRelevantKey(r, &first, &key)) return false;
  if (key == TagOrContent::kNone) return r.PendingDataError("missing field `type`");
  if (key == TagOrContent::kTag) {
    if (!ReadTagField(r, tag)) return false;
    if (!NextRelevantKey(r, &first, &key)) return false;
    if (key == TagOrContent::kTag) return r.PendingDataError("duplicate field `type`");
    if (key == TagOrContent::kNone) return r.PendingDataError("missing field `value`");
    if (!r.ParseColon()) return false;
    r.PushKey("value");
    const bool ok = ReadGrammarContent(r, *tag, raw);
    r.Pop();
    return ok && NoMoreTagOrContent(r, &first);
  }
  // The content came first: serde buffers it, then reads it once the tag is known.
  if (!r.ParseColon()) return false;
  r.PushKey("value");
  const size_t start = r.index();
  const bool ok = r.SkipContent();
  const std::string_view content = r.input().substr(start, r.index() - start);
  r.Pop();
  if (!ok) return false;
  if (!NextRelevantKey(r, &first, &key)) return false;
  if (key == TagOrContent::kContent) return r.PendingDataError("duplicate field `value`");
  if (key == TagOrContent::kNone) return r.PendingDataError("missing field `type`");
  if (!ReadTagField(r, tag)) return false;
  SerdeReader buffered(content);
  if (!ReadGrammarContent(buffered, *tag, raw)) {
    return r.PendingDataError(buffered.error().message);
  }
  return NoMoreTagOrContent(r, &first);
}

// Option<GrammarType>.
bool ReadGrammar(SerdeReader& r, GenerateParameters* p) {
  bool is_null = false;
  if (!r.ReadNull(&is_null)) return false;
  p->has_grammar = !is_null;
  p->grammar_type.clear();
  p->grammar_value.clear();
  if (is_null) return true;
  int c = 0;
  if (!r.PeekValue(&c)) return false;
  if (c != '{' && c != '[') return r.InvalidType("adjacently tagged enum GrammarType");
  if (!r.Enter()) return false;
  r.Eat();
  bool ok = true;
  if (c == '{') {
    ok = VisitGrammarMap(r, &p->grammar_type, &p->grammar_value);
  } else {  // [tag, content]
    bool first = true, has = false;
    constexpr std::string_view kExpected = "adjacently tagged enum GrammarType";
    for (int i = 0; ok && i < 2; ++i) {
      ok = r.HasNextElement(&first, &has);
      if (ok && !has) ok = r.InvalidLength(i, kExpected);
      if (!ok) break;
      r.PushIndex(i);
      ok = i == 0 ? ReadGrammarTag(r, &p->grammar_type)
                  : ReadGrammarContent(r, p->grammar_type, &p->grammar_value);
      r.Pop();
    }
  }
  if (!ok) {
    r.FinishContainerError(c == '{' ? '}' : ']');
    return false;
  }
  r.Leave();
  return c == '{' ? r.EndMap() : r.EndSeq();
}

std::vector<FieldSpec> ParameterFields(GenerateParameters* p) {
  auto opt_f32 = [](std::optional<float>* f) {
    return [f](SerdeReader& r) { return ReadOptionalF32(r, f); };
  };
  auto boolean = [](bool* b) { return [b](SerdeReader& r) { return r.ReadBool(b); }; };
  // Every field has #[serde(default)]: none is required, in either form.
  return {
      {"best_of", false, false,
       [p](SerdeReader& r) { return ReadOptionalU64(r, "usize", &p->best_of); }},
      {"temperature", false, false, opt_f32(&p->temperature)},
      {"repetition_penalty", false, false, opt_f32(&p->repetition_penalty)},
      {"frequency_penalty", false, false, opt_f32(&p->frequency_penalty)},
      {"top_k", false, false, [p](SerdeReader& r) { return ReadOptionalI32(r, &p->top_k); }},
      {"top_p", false, false, opt_f32(&p->top_p)},
      {"typical_p", false, false, opt_f32(&p->typical_p)},
      {"do_sample", false, false, boolean(&p->do_sample)},
      {"max_new_tokens", false, false,
       [p](SerdeReader& r) { return ReadOptionalU32(r, &p->max_new_tokens); }},
      {"return_full_text", false, false,
       [p](SerdeReader& r) { return ReadOptionalBool(r, &p->return_full_text); }},
      {"stop", false, false,
       [p](SerdeReader& r) {
         p->stop.clear();
         return r.ReadStringSeq(&p->stop);
       }},
      {"truncate", false, false,
       [p](SerdeReader& r) { return ReadOptionalU64(r, "usize", &p->truncate); }},
      {"watermark", false, false, boolean(&p->watermark)},
      {"details", false, false, boolean(&p->details)},
      {"decoder_input_details", false, false, boolean(&p->decoder_input_details)},
      {"seed", false, false, [p](SerdeReader& r) { return ReadOptionalU64(r, "u64", &p->seed); }},
      {"top_n_tokens", false, false,
       [p](SerdeReader& r) { return ReadOptionalU32(r, &p->top_n_tokens); }},
      {"grammar", false, false, [p](SerdeReader& r) { return ReadGrammar(r, p); }},
      {"adapter_id", false, false,
       [p](SerdeReader& r) { return ReadOptionalString(r, &p->adapter_id); }},
  };
}

}  // namespace

std::variant<GenerateRequest, BodyError> ParseGenerateRequest(std::string_view body,
                                                              GenerateShape shape) {
  SerdeReader r(body);
  GenerateRequest req;
  std::vector<FieldSpec> fields = {
      {"inputs", true, true, [&req](SerdeReader& q) { return q.ReadString(&req.inputs); }},
      {"parameters", false, false,
       [&req](SerdeReader& q) {
         req.has_parameters = true;
         req.parameters = GenerateParameters{};
         return ReadStruct(q, "GenerateParameters", ParameterFields(&req.parameters));
       }},
  };
  const bool compat = shape == GenerateShape::kCompat;
  if (compat) {
    fields.push_back(
        {"stream", false, false, [&req](SerdeReader& q) { return q.ReadBool(&req.stream); }});
  }
  const bool ok =
      ReadStruct(r, compat ? "CompatGenerateRequest" : "GenerateRequest", fields) && r.End();
  if (!ok) {
    const DeError& e = r.error();
    return BodyError{e.syntax ? 400 : 422, DeErrorText(e)};
  }
  if (!req.has_parameters) req.parameters.do_sample = true;  // TGI's default_parameters()
  return req;
}

bool ReadOptionalGrammar(SerdeReader& r, bool* present, std::string* type, std::string* value) {
  GenerateParameters p;
  if (!ReadGrammar(r, &p)) return false;
  *present = p.has_grammar;
  *type = std::move(p.grammar_type);
  *value = std::move(p.grammar_value);
  return true;
}

}  // namespace sg::api
