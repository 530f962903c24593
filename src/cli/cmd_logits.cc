#include "cli/commands.h"

namespace sg::cli {

void RegisterLogits(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("logits", "(not yet implemented)");
  cmd->callback([exit_code] { *exit_code = 1; });
}

}  // namespace sg::cli
