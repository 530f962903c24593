#include "engine/model/prefault.h"

#include <unistd.h>

#include <algorithm>
#include <memory>

#include "engine/core/machine.h"

namespace sg {

uint64_t MappedBytes(const Model& model) {
  uint64_t total = 0;
  for (const std::shared_ptr<MappedFile>& file : model.tensors.files()) total += file->size();
  return total;
}

bool FitsInMemory(uint64_t bytes) {
  const uint64_t available = AvailableMemoryBytes();
  return available == 0 || bytes <= available / 10 * 9;  // unknown: assume it fits
}

void PrefaultModel(const Model& model, FunctionRef<void(uint64_t, uint64_t)> progress,
                   uint64_t step_bytes) {
  const uint64_t total = MappedBytes(model);
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  step_bytes = std::max(step_bytes, page);
  uint64_t done = 0;
  // Reading through a volatile pointer keeps the loads; the sum is never used.
  unsigned char sink = 0;
  for (const std::shared_ptr<MappedFile>& file : model.tensors.files()) {
    const auto* bytes = reinterpret_cast<const volatile unsigned char*>(file->data());
    file->AdviseWillNeed(0, step_bytes);
    for (uint64_t offset = 0; offset < file->size(); offset += step_bytes) {
      const uint64_t end = std::min(file->size(), offset + step_bytes);
      // Read ahead one step beyond this one, so the disk works while this step's pages fault.
      file->AdviseWillNeed(end, step_bytes);
      for (uint64_t at = offset; at < end; at += page) sink = sink + bytes[at];
      done += end - offset;
      progress(done, total);
    }
  }
  (void)sink;
  if (total == 0) progress(0, 0);
}

}  // namespace sg
