// File helpers shared by the benchmark programs (header-only; each bench is one executable).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace sg::bench {

// The whole file as bytes; false if it cannot be opened.
inline bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = std::move(ss).str();
  return true;
}

}  // namespace sg::bench
