#include "engine/constrain/token_index.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace sg {
namespace {

// shared_prefix_ is uint16: a token longer than this could share more than it can record, so such
// tokens (none exist in real vocabularies) are blanked: never allowed.
constexpr size_t kMaxTokenBytes = std::numeric_limits<uint16_t>::max();

size_t SharedPrefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

TokenIndex::TokenIndex(std::vector<std::string> token_bytes, std::vector<int32_t> eos_ids)
    : bytes_(std::move(token_bytes)) {
  const int32_t n = vocab_size();
  // EOS ids are allowed by the accepting rule alone, never by their bytes (a tokenizer whose eos
  // is not a special token would otherwise also spell its text "</s>").
  for (int32_t id : eos_ids) {
    if (id < 0 || id >= n) continue;
    if (std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end()) continue;
    eos_ids_.push_back(id);
    bytes_[id].clear();
  }
  sorted_ids_.reserve(bytes_.size());
  for (int32_t id = 0; id < n; ++id) {
    if (bytes_[id].size() > kMaxTokenBytes) bytes_[id].clear();
    if (!bytes_[id].empty()) sorted_ids_.push_back(id);
  }
  // Byte order is unsigned: std::string's char_traits<char>::compare compares as unsigned char.
  // Ties (two ids with the same bytes) keep id order, so the index is deterministic.
  std::stable_sort(sorted_ids_.begin(), sorted_ids_.end(), [this](int32_t a, int32_t b) {
    return std::string_view(bytes_[a]) < std::string_view(bytes_[b]);
  });
  shared_prefix_.resize(sorted_ids_.size(), 0);
  suffix_begin_.reserve(sorted_ids_.size() + 1);
  for (size_t i = 0; i < sorted_ids_.size(); ++i) {
    const std::string_view cur = bytes_[sorted_ids_[i]];
    max_len_ = std::max(max_len_, cur.size());
    if (i > 0) {
      shared_prefix_[i] = static_cast<uint16_t>(SharedPrefix(bytes_[sorted_ids_[i - 1]], cur));
    }
    // uint32 offsets: the suffixes total about 0.3 MB for Qwen3's 151k tokens. Past 4 GiB (no
    // real vocabulary) the remaining tokens are dropped: never allowed.
    const std::string_view suffix = cur.substr(shared_prefix_[i]);
    if (suffix_bytes_.size() + suffix.size() > std::numeric_limits<uint32_t>::max()) {
      for (size_t k = i; k < sorted_ids_.size(); ++k) bytes_[sorted_ids_[k]].clear();
      sorted_ids_.resize(i);
      shared_prefix_.resize(i);
      break;
    }
    suffix_begin_.push_back(static_cast<uint32_t>(suffix_bytes_.size()));
    suffix_bytes_.append(suffix);
  }
  suffix_begin_.push_back(static_cast<uint32_t>(suffix_bytes_.size()));
}

}  // namespace sg
