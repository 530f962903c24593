#include "cli/default_model.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace sg::cli {

StatusOr<std::string> FindDefaultModel() {
  namespace fs = std::filesystem;
  const fs::path relative = fs::path("models") / "demo" / "shakespeare-q8_0.gguf";
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("STREAMGEN_MODEL"); env && *env) candidates.push_back(env);
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; up <= 4 && !ec && !dir.empty(); ++up) {
    candidates.push_back(dir / relative);
    dir = dir.parent_path();
  }
  candidates.push_back(fs::path(STREAMGEN_SOURCE_DIR) / relative);
  candidates.push_back(fs::path("/usr/local/share/streamgen") / relative);
  std::string tried;
  for (const fs::path& p : candidates) {
    if (fs::exists(p, ec)) return p.lexically_normal().string();
    tried += "\n  " + p.string();
  }
  return NotFoundError("no model given and the bundled demo model was not found; looked at:" +
                       tried + "\npass --model FILE.gguf or --model HF_FOLDER");
}

}  // namespace sg::cli
