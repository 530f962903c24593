#include "server/app/request_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/api/tgi_json.h"
#include "server/api/tgi_request.h"

namespace sg::server {
namespace {

double Seconds(RequestTimes::Clock::time_point a, RequestTimes::Clock::time_point b) {
  if (a == RequestTimes::Clock::time_point{} || b == RequestTimes::Clock::time_point{}) return 0;
  return std::max(0.0, std::chrono::duration<double>(b - a).count());
}

std::string Ms(double s) { return std::to_string(static_cast<int64_t>(s * 1000.0)); }

}  // namespace

double RequestTimes::total_s() const { return Seconds(received, engine.finished); }
double RequestTimes::validation_s() const { return Seconds(received, validated); }
double RequestTimes::queue_s() const { return Seconds(validated, engine.admitted); }
double RequestTimes::inference_s() const { return Seconds(engine.admitted, engine.finished); }

http::Headers RequestTimes::Headers(const GenerationEnd& end, const api::ValidRequest& request,
                                    const std::string& compute_type) const {
  const double per_token = inference_s() / std::max(1, end.generated_tokens);
  char compute[32];
  std::snprintf(compute, sizeof(compute), "%.6f", total_s());
  return {{"x-compute-type", compute_type},
          {"x-compute-time", compute},
          {"x-compute-characters", std::to_string(api::CountChars(request.inputs))},
          {"x-total-time", Ms(total_s())},
          {"x-validation-time", Ms(validation_s())},
          {"x-queue-time", Ms(queue_s())},
          {"x-inference-time", Ms(inference_s())},
          {"x-time-per-token", Ms(per_token)},
          {"x-prompt-tokens", std::to_string(request.input_length)},
          {"x-generated-tokens", std::to_string(end.generated_tokens)}};
}

void RecordValidated(Metrics& metrics, const api::ValidRequest& request) {
  metrics.RequestValidated(request.input_length, request.max_new_tokens_chunk);
}

void RecordSuccess(Metrics& metrics, const RequestTimes& t, const GenerationEnd& end) {
  RequestTimings timings;
  timings.total_s = t.total_s();
  timings.validation_s = t.validation_s();
  timings.queue_s = t.queue_s();
  timings.inference_s = t.inference_s();
  timings.time_per_token_s = t.inference_s() / std::max(1, end.generated_tokens);
  metrics.RequestSucceeded(timings, end.generated_tokens);
  metrics.RequestCachedTokens(end.cached_tokens);
}

void RecordFailure(Metrics& metrics, FailureReason reason) { metrics.RequestFailed(reason); }

void LogRequest(const RequestTimes& t, const GenerationEnd& end, const api::ValidRequest& r,
                bool json) {
  const double per_token = t.inference_s() / std::max(1, end.generated_tokens);
  const std::string seed = end.sampled ? std::to_string(end.seed) : "None";
  if (json) {
    spdlog::info(
        "generate: Success\",\"total_time\":{:.6f},\"validation_time\":{:.6f},\"queue_time\":"
        "{:.6f},\"inference_time\":{:.6f},\"time_per_token\":{:.6f},\"input_length\":{},"
        "\"cached_tokens\":{},\"generated_tokens\":{},\"finish_reason\":\"{}\",\"seed\":\"{}",
        t.total_s(), t.validation_s(), t.queue_s(), t.inference_s(), per_token, r.input_length,
        end.cached_tokens, end.generated_tokens, FinishReasonName(end.finish_reason), seed);
  } else {
    spdlog::info(
        "generate{{input_length={} cached_tokens={} max_new_tokens={} total_time=\"{:.3f}s\" "
        "validation_time=\"{:.3f}ms\" queue_time=\"{:.3f}ms\" inference_time=\"{:.3f}s\" "
        "time_per_token=\"{:.3f}ms\" generated_tokens={} finish_reason={} seed={}}}: Success",
        r.input_length, end.cached_tokens, r.engine.stopping.max_new_tokens, t.total_s(),
        t.validation_s() * 1e3, t.queue_s() * 1e3, t.inference_s(), per_token * 1e3,
        end.generated_tokens, FinishReasonName(end.finish_reason), seed);
  }
}

}  // namespace sg::server
