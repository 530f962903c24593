// libFuzzer target: SafetensorsFile::Parse on arbitrary bytes. For an accepted file, every tensor
// view must lie inside the buffer (ASan checks the first and last byte of each).
#include <cstddef>
#include <cstdint>

#include "engine/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = sg::MappedFile::FromBytes("fuzz.safetensors", data, size);
  auto parsed = sg::SafetensorsFile::Parse(file);
  if (!parsed.ok()) return 0;
  volatile uint8_t sink = 0;
  for (const sg::SafetensorsTensor& t : (*parsed)->tensors()) {
    if (t.view.nbytes == 0) continue;
    sink = sink ^ static_cast<uint8_t>(t.view.data[0]) ^
           static_cast<uint8_t>(t.view.data[t.view.nbytes - 1]);
  }
  (void)sink;
  return 0;
}
