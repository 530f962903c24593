// One request's timing (API contract §6.9), the response headers TGI derives from it (§1.1), the
// metrics it records (§7) and the one log line per request TGI prints (JSON with --json-output).
// Thread rules: a RequestTimes belongs to one request; its methods are called in order, by
// whichever thread handles that stage.
#pragma once

#include <chrono>
#include <string>

#include "engine/serving/generation.h"
#include "server/api/validation.h"
#include "server/http/http_server.h"
#include "server/metrics/metrics.h"

namespace sg::server {

struct RequestTimes {
  using Clock = std::chrono::steady_clock;
  Clock::time_point received{};   // the HTTP request arrived
  Clock::time_point validated{};  // validation + tokenization done, submitted to the engine
  GenerationTiming engine;        // queued / admitted / finished, from the engine

  void Validated() { validated = Clock::now(); }
  void Finish(const GenerationEnd& end) { engine = end.timing; }

  double total_s() const;
  double validation_s() const;
  double queue_s() const;
  double inference_s() const;

  // x-compute-type, x-compute-time, x-compute-characters, x-total-time, x-validation-time,
  // x-queue-time, x-inference-time, x-time-per-token, x-prompt-tokens, x-generated-tokens.
  http::Headers Headers(const GenerationEnd& end, const api::ValidRequest& request,
                        const std::string& compute_type) const;
};

void RecordValidated(Metrics& metrics, const api::ValidRequest& request);
void RecordSuccess(Metrics& metrics, const RequestTimes& times, const GenerationEnd& end);
void RecordFailure(Metrics& metrics, FailureReason reason);  // tgi_request_failure{err=...}

// "generate{...}: Success" as TGI's router logs it, or a JSON line.
void LogRequest(const RequestTimes& times, const GenerationEnd& end,
                const api::ValidRequest& request, bool json);

}  // namespace sg::server
