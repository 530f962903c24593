#include "test_util.h"

#include <stdlib.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/quant/traits.h"

namespace sg::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                     "/streamgen-model-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* made = ::mkdtemp(buf.data());
  assert(made != nullptr);
  path_ = made != nullptr ? made : "/tmp";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (path_ != "/tmp") std::filesystem::remove_all(path_, ec);
}

std::vector<float> ToFloats(const TensorView& v) {
  std::vector<float> out(static_cast<size_t>(v.numel()));
  const QuantTraits* traits = GetQuantTraits(v.type);
  if (traits == nullptr) return {};
  for (int64_t r = 0; r < v.rows(); ++r) {
    traits->dequantize_row(v.row(r), out.data() + r * v.cols(), v.cols());
  }
  return out;
}

testmodel::TestModelOptions Tiny(const std::string& arch, const std::string& type) {
  testmodel::TestModelOptions o;
  o.arch = arch;
  o.type = type;
  o.size = "tiny";
  o.seed = 7;
  return o;
}

uint64_t CurrentRssBytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;  // the file says kB
    }
  }
  return 0;
}

}  // namespace sg::test
