// Subcommands of the `streamgen` binary. Each Register* adds its subcommand to the app and sets
// its callback; the callback's exit code is stored in *exit_code.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace sg::cli {

void RegisterInspect(CLI::App& app, int* exit_code);       // cmd_inspect.cc
void RegisterGenerate(CLI::App& app, int* exit_code);      // cmd_generate.cc
void RegisterLogits(CLI::App& app, int* exit_code);        // cmd_logits.cc (reference tests)
void RegisterBench(CLI::App& app, int* exit_code);         // cmd_bench.cc
void RegisterTokenize(CLI::App& app, int* exit_code);      // cmd_tokenize.cc
void RegisterServe(CLI::App& app, int* exit_code);         // cmd_serve.cc (the HTTP server)
void RegisterPerplexity(CLI::App& app, int* exit_code);    // cmd_perplexity.cc
void RegisterChatTemplate(CLI::App& app, int* exit_code);  // cmd_chat_template.cc
void RegisterBenchServe(CLI::App& app, int* exit_code);    // cmd_bench_serve.cc (serving bench)

// The --kv-cache-dtype option of the commands that run the engine (value checked when it runs,
// by ParseKvCacheDType). Defined in cmd_bench.cc.
void AddKvCacheDTypeOption(CLI::App* cmd, std::string* value);

}  // namespace sg::cli
