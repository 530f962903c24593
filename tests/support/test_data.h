// Where the tests find the shared reference data (../shared/refdata: tokenizers, GGUF vocabularies,
// chat templates and their goldens). One definition for every test file, so the files of a test
// executable can be compiled together (CMake unity build) without clashing names.
#pragma once

#include <string>

namespace sg::test {

inline const std::string kRefdataDir = STREAMGEN_SHARED_DIR "/refdata";

}  // namespace sg::test
