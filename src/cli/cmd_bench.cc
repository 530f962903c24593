#include "cli/commands.h"

namespace sg::cli {

void RegisterBench(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("bench", "(not yet implemented)");
  cmd->callback([exit_code] { *exit_code = 1; });
}

}  // namespace sg::cli
