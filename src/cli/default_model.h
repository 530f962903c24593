// The bundled demo model as the default when no --model is given.
// Any thread.
#pragma once

#include <string>

#include "engine/core/status.h"

namespace sg::cli {

// Looks, in order, at $STREAMGEN_MODEL, models/demo/shakespeare-q8_0.gguf next to the executable
// or up to four directories above it (build/src/cli/streamgen -> the repository), the source tree
// the binary was built from, and /usr/local/share/streamgen/models/demo/. NotFound lists where it
// looked.
StatusOr<std::string> FindDefaultModel();

}  // namespace sg::cli
