#include "engine/text/jinja/chat_template.h"

#include <ctime>

#include "engine/text/jinja/evaluator.h"
#include "engine/text/jinja/json_convert.h"
#include "engine/text/jinja/parser.h"

namespace sg {

struct ChatTemplate::Compiled {
  jinja::Body body;
};

namespace {

// Seconds since the epoch of the wall-clock time strftime_now() shows, read back as UTC (the
// evaluator formats it with gmtime, so no time zone is applied twice).
int64_t ClockSeconds(const RenderOptions& options) {
  std::tm tm{};
  if (options.date) {
    tm.tm_year = options.date->year - 1900;
    tm.tm_mon = options.date->month - 1;
    tm.tm_mday = options.date->day;
  } else {
    const time_t now = std::time(nullptr);
    localtime_r(&now, &tm);
  }
  return static_cast<int64_t>(timegm(&tm));
}

StatusOr<std::string> RenderValue(const jinja::Body& body, const jinja::Value& context,
                                  const RenderOptions& options) {
  jinja::EvalLimits limits;
  limits.max_output_bytes = options.limits.max_output_bytes;
  limits.max_steps = options.limits.max_steps;
  limits.max_depth = options.limits.max_depth;
  jinja::Evaluator ev(limits, ClockSeconds(options));
  return ev.Render(body, context);
}

}  // namespace

StatusOr<ChatTemplate> ChatTemplate::Compile(std::string_view source) {
  SG_ASSIGN_OR_RETURN(jinja::Body body, jinja::Parse(source));
  auto c = std::make_shared<Compiled>();
  c->body = std::move(body);
  return ChatTemplate(std::move(c));
}

StatusOr<std::string> ChatTemplate::Render(const nlohmann::ordered_json& context,
                                           const RenderOptions& options) const {
  if (!context.is_object()) return InvalidArgumentError("the render context must be an object");
  return RenderValue(compiled_->body, jinja::FromJson(context), options);
}

StatusOr<std::string> ChatTemplate::Render(const nlohmann::json& context,
                                           const RenderOptions& options) const {
  if (!context.is_object()) return InvalidArgumentError("the render context must be an object");
  return RenderValue(compiled_->body, jinja::FromJson(context), options);
}

}  // namespace sg
