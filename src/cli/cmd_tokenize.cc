// `streamgen tokenize`: the tokenizer of a model from the command line.
//   streamgen tokenize --tokenizer PATH [--add-special] "text"
//     one line per token: id, the vocabulary piece (JSON-quoted, so spaces and control bytes
//     show), and the [begin, end) byte offsets into the text;
//   streamgen tokenize --tokenizer PATH --jsonl < in.jsonl
//     per input line {"text": ...} one output line {"ids", "ids_special", "text", "text_skip"}
//     (ids without / with special tokens; the decodes of ids_special without / with skipping the
//     special tokens), plus "text_clean" / "text_skip_clean" (transformers' decode() with
//     clean_up_tokenization_spaces) when the tokenizer_config.json enables it.
// PATH is a tokenizer.json, a folder holding one, or a GGUF file with a vocabulary.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/text/tokenizer.h"

namespace sg::cli {
namespace {

struct TokenizeArgs {
  std::string tokenizer;
  std::string text;
  bool add_special = false;
  bool jsonl = false;
};

// Decoded text is valid UTF-8 by contract; `replace` keeps a broken input from throwing.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

Status PrintTokens(const Tokenizer& tok, const TokenizeArgs& args) {
  const Encoding enc = tok.Encode(args.text, args.add_special);
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    const auto [begin, end] =
        i < enc.offsets.size() ? enc.offsets[i] : std::pair<uint32_t, uint32_t>{};
    const nlohmann::json piece = std::string(tok.IdToPiece(enc.ids[i]));
    std::printf("%d\t%s\t%u\t%u\n", enc.ids[i], Dump(piece).c_str(), begin, end);
  }
  return OkStatus();
}

StatusOr<nlohmann::json> TokenizeLine(const Tokenizer& tok, const std::string& line) {
  const nlohmann::json in = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) return InvalidArgumentError("not valid JSON");
  if (!in.is_object()) return InvalidArgumentError("expected a JSON object");
  const auto text = in.find("text");
  if (text == in.end() || !text->is_string()) {
    return InvalidArgumentError("expected a string member \"text\"");
  }
  const std::string& s = text->get_ref<const std::string&>();
  const Encoding plain = tok.Encode(s, /*add_special_tokens=*/false);
  const Encoding special = tok.Encode(s, /*add_special_tokens=*/true);
  nlohmann::json out;
  out["ids"] = plain.ids;
  out["ids_special"] = special.ids;
  const std::string decoded = tok.Decode(special.ids, /*skip_special_tokens=*/false);
  const std::string decoded_skip = tok.Decode(special.ids, /*skip_special_tokens=*/true);
  out["text"] = decoded;
  out["text_skip"] = decoded_skip;
  if (tok.settings().clean_up_tokenization_spaces) {
    out["text_clean"] = Tokenizer::CleanUpTokenizationSpaces(decoded);
    out["text_skip_clean"] = Tokenizer::CleanUpTokenizationSpaces(decoded_skip);
  }
  return out;
}

Status RunJsonl(const Tokenizer& tok) {
  std::string line;
  for (int64_t line_no = 1; std::getline(std::cin, line); ++line_no) {
    if (line.empty()) continue;
    StatusOr<nlohmann::json> out = TokenizeLine(tok, line);
    if (!out.ok()) {
      return InvalidArgumentError("stdin line " + std::to_string(line_no) + ": " +
                                  out.status().message());
    }
    std::cout << Dump(*out) << "\n";
  }
  std::cout << std::flush;
  return OkStatus();
}

Status RunTokenize(const TokenizeArgs& args) {
  if (args.jsonl && !args.text.empty()) {
    return InvalidArgumentError("give either TEXT or --jsonl (which reads stdin), not both");
  }
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, Tokenizer::Load(args.tokenizer));
  if (args.jsonl) return RunJsonl(*tok);
  return PrintTokens(*tok, args);
}

}  // namespace

void RegisterTokenize(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = app.add_subcommand("tokenize", "Token ids and pieces of a text (or of JSON lines)");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer.json, a folder holding one, or a GGUF")
      ->required();
  cmd->add_flag("--add-special", args->add_special, "Add special tokens (BOS/EOS) as HF does");
  cmd->add_flag("--jsonl", args->jsonl,
                "Read {\"text\": ...} lines from stdin, write ids and decodes as JSON lines");
  cmd->add_option("text", args->text, "Text to tokenize");
  cmd->callback([args, exit_code] {
    const Status s = RunTokenize(*args);
    if (!s.ok()) {
      std::cerr << "streamgen tokenize: " << s.ToString() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
