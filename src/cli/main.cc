// streamgen: a TGI-compatible LLM server with its own CPU engine. This file only dispatches.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"streamgen: serve and run LLMs (GGUF or Hugging Face folders) on the CPU"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("streamgen ") + STREAMGEN_VERSION);
  int exit_code = 0;
  sg::cli::RegisterInspect(app, &exit_code);
  sg::cli::RegisterGenerate(app, &exit_code);
  sg::cli::RegisterLogits(app, &exit_code);
  sg::cli::RegisterBench(app, &exit_code);
  sg::cli::RegisterTokenize(app, &exit_code);
  sg::cli::RegisterServe(app, &exit_code);
  sg::cli::RegisterPerplexity(app, &exit_code);
  sg::cli::RegisterChatTemplate(app, &exit_code);
  sg::cli::RegisterBenchServe(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
