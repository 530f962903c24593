#include "engine/sampling/stop_criteria.h"

#include <algorithm>

namespace sg {
namespace {

// TGI keeps the last 200 characters once the buffer passes 300; we count bytes, and never keep
// fewer than the longest stop string so that a long (e.g. CJK) stop string can still match.
constexpr size_t kKeepBytes = 200;
constexpr size_t kSlackBytes = 100;

bool IsUtf8Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Python's re.search(escape(stop) + "$", text): `$` matches at the very end and also just before
// a final "\n", so TGI stops on "stop\n" as well. An empty stop string always matches.
bool EndsWithStop(std::string_view text, std::string_view stop) {
  if (text.ends_with(stop)) return true;
  return text.ends_with('\n') && text.substr(0, text.size() - 1).ends_with(stop);
}

}  // namespace

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEosToken:
      return "eos_token";
    case FinishReason::kStopSequence:
      return "stop_sequence";
  }
  return "length";
}

StopCriteria::StopCriteria(const StoppingParams& params, std::span<const int32_t> eos_ids)
    : params_(params), eos_ids_(eos_ids.begin(), eos_ids.end()) {
  size_t longest = 0;
  for (const std::string& stop : params_.stop_sequences) longest = std::max(longest, stop.size());
  keep_bytes_ = std::max(kKeepBytes, longest);
}

std::optional<FinishReason> StopCriteria::Push(int32_t id, std::string_view text) {
  ++generated_;
  if (generated_ >= params_.max_new_tokens) return FinishReason::kLength;
  if (!params_.ignore_eos && std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end()) {
    return FinishReason::kEosToken;
  }
  if (params_.stop_sequences.empty()) return std::nullopt;
  buffer_.append(text);
  if (buffer_.size() > keep_bytes_ + kSlackBytes) {
    // Keep the last keep_bytes_ bytes, moved forward past any continuation bytes so that the
    // buffer still starts on a UTF-8 sequence (at most 3 bytes fewer).
    size_t cut = buffer_.size() - keep_bytes_;
    while (cut < buffer_.size() && IsUtf8Continuation(buffer_[cut])) ++cut;
    buffer_.erase(0, cut);
  }
  for (const std::string& stop : params_.stop_sequences) {
    if (EndsWithStop(buffer_, stop)) return FinishReason::kStopSequence;
  }
  return std::nullopt;
}

}  // namespace sg
