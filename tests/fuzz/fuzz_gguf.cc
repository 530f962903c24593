// libFuzzer target: GgufFile::Parse on arbitrary bytes. Parse must return (ok or an error) without
// crashing; for an accepted file, every tensor view must lie inside the buffer, which ASan checks
// by touching each view's first and last byte.
#include <cstddef>
#include <cstdint>

#include "engine/io/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = sg::MappedFile::FromBytes("fuzz.gguf", data, size);
  auto parsed = sg::GgufFile::Parse(file);
  if (!parsed.ok()) return 0;
  volatile uint8_t sink = 0;
  for (const sg::GgufTensorInfo& info : (*parsed)->tensors()) {
    sg::TensorView view = (*parsed)->View(info);
    if (view.nbytes == 0) continue;
    sink = sink ^ static_cast<uint8_t>(view.data[0]) ^
           static_cast<uint8_t>(view.data[view.nbytes - 1]);
  }
  for (const sg::GgufKeyValue& kv : (*parsed)->metadata()) {
    sink = sink ^ static_cast<uint8_t>(kv.value.ToDisplayString().size());
  }
  (void)sink;
  return 0;
}
