// When a sequence stops, checked after each generated token in TGI's order (§3.5):
//   1. length: generated >= max_new_tokens            -> kLength (so length beats EOS)
//   2. EOS: the id is one of the model's EOS ids       -> kEosToken
//   3. stop sequence: the decoded text so far ENDS WITH one of the stop strings -> kStopSequence.
//      The text is a rolling buffer of the streamed token texts (trimmed to its last K bytes once
//      it exceeds K + 100, never inside a UTF-8 sequence; K = max(200, longest stop string) so a
//      long multi-byte stop string still matches), so a stop string spanning token boundaries
//      matches; one inside a token's text that is not at the end does not. As TGI's regex
//      `escape(stop)$` does, a buffer ending with stop + "\n" also matches, and an empty stop
//      string matches at once. The buffer is kept only when there are stop strings.
// ignore_eos skips step 2 only.
// Thread rules: one instance per sequence; engine thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sampling/sampling_params.h"

namespace sg {

enum class FinishReason { kLength, kEosToken, kStopSequence };

// "length", "eos_token", "stop_sequence" (TGI's native names).
std::string_view FinishReasonName(FinishReason reason);

class StopCriteria {
 public:
  StopCriteria(const StoppingParams& params, std::span<const int32_t> eos_ids);

  // Records one generated token and the text it added (may be empty while UTF-8 bytes are held
  // back). Returns the finish reason if the sequence must stop after this token.
  std::optional<FinishReason> Push(int32_t id, std::string_view text);

  int32_t generated() const { return generated_; }
  // The rolling text buffer (step 3); exposed for tests and debugging.
  std::string_view buffer() const { return buffer_; }

 private:
  StoppingParams params_;
  std::vector<int32_t> eos_ids_;
  std::string buffer_;     // rolling decoded text (only with stop strings)
  size_t keep_bytes_ = 0;  // K above
  int32_t generated_ = 0;
};

}  // namespace sg
