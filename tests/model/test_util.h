// Helpers shared by the model tests: temporary directories and reading weights back as floats.
#pragma once

#include <string>
#include <vector>

#include "engine/core/tensor_view.h"
#include "testmodel/test_model.h"

namespace sg::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// All of a weight's elements as floats (dequantized with the type's traits).
std::vector<float> ToFloats(const TensorView& v);

// Options for a tiny model of `arch` with `type`.
testmodel::TestModelOptions Tiny(const std::string& arch, const std::string& type = "f32");

// Resident set size of this process in bytes (VmRSS of /proc/self/status), 0 if unknown.
uint64_t CurrentRssBytes();

}  // namespace sg::test
