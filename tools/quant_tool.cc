// quant_tool: converts between f32 and a stored weight format through GetQuantTraits, for the
// known-answer test against tests/reference/gguf_quants.py.
//   quant_tool dequant TYPE < raw_blocks > f32      (TYPE as DTypeName: f16, q4_K, ...)
//   quant_tool quant TYPE < f32 > raw_blocks
// stdin/stdout are binary (little-endian host). Exits 2 on bad usage or input.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/quant/traits.h"

namespace {

std::vector<uint8_t> ReadAll(FILE* f) {
  std::vector<uint8_t> data;
  uint8_t buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), f)) > 0) data.insert(data.end(), buf, buf + got);
  return data;
}

const sg::QuantTraits* FindTraits(std::string_view name) {
  for (uint32_t id = 0; id < 64; ++id) {
    const auto info = sg::LookupDType(id);
    if (info && info->name == name) return sg::GetQuantTraits(info->type);
  }
  return nullptr;
}

int Fail(const char* message) {
  std::fprintf(stderr, "quant_tool: %s\n", message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return Fail("usage: quant_tool dequant|quant TYPE < in > out");
  const std::string_view mode = argv[1];
  const sg::QuantTraits* traits = FindTraits(argv[2]);
  if (traits == nullptr) return Fail("unknown type or a type without kernels");
  const std::vector<uint8_t> in = ReadAll(stdin);
  std::vector<uint8_t> out;
  if (mode == "dequant") {
    if (in.size() % traits->block_bytes != 0) return Fail("input is not a whole number of blocks");
    const int64_t n = static_cast<int64_t>(in.size() / traits->block_bytes) * traits->block_elems;
    out.resize(static_cast<size_t>(n) * sizeof(float));
    traits->dequantize_row(in.data(), reinterpret_cast<float*>(out.data()), n);
  } else if (mode == "quant") {
    if (in.size() % (sizeof(float) * traits->block_elems) != 0) {
      return Fail("input is not a whole number of blocks of f32");
    }
    const int64_t n = static_cast<int64_t>(in.size() / sizeof(float));
    std::vector<float> x(static_cast<size_t>(n));
    if (n > 0) std::memcpy(x.data(), in.data(), in.size());
    out.resize(static_cast<size_t>(n / traits->block_elems) * traits->block_bytes);
    traits->quantize_row(x.data(), out.data(), n);
  } else {
    return Fail("mode must be dequant or quant");
  }
  if (!out.empty() && std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) {
    return Fail("write failed");
  }
  return 0;
}
