#include "server/app/async_log.h"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace sg::server {
namespace {

constexpr size_t kQueueMessages = 8192;

}  // namespace

void StartAsyncLogging(bool json_output) {
  spdlog::init_thread_pool(kQueueMessages, 1);
  std::shared_ptr<spdlog::details::thread_pool> pool = spdlog::thread_pool();
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::async_logger>(
      previous->name(), previous->sinks().begin(), previous->sinks().end(), pool,
      spdlog::async_overflow_policy::overrun_oldest);
  logger->set_level(previous->level());
  spdlog::set_default_logger(logger);
  if (json_output) {
    spdlog::set_pattern(
        R"({"timestamp":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","target":"streamgen","message":"%v"})",
        spdlog::pattern_time_type::utc);
  }
}

void StopAsyncLogging() {
  // The registry's thread pool is what Start set up and Stop clears: it says whether we run.
  if (spdlog::thread_pool() == nullptr) return;
  std::shared_ptr<spdlog::logger> async = spdlog::default_logger();
  async->flush();
  auto sync =
      std::make_shared<spdlog::logger>(async->name(), async->sinks().begin(), async->sinks().end());
  sync->set_level(async->level());
  spdlog::set_default_logger(sync);
  // The async logger and its thread pool go when their last reference does: the pool's
  // destructor writes what is still queued and joins its thread. (Not spdlog::shutdown(): it
  // also drops the default logger, and a later log call would dereference null.)
  async.reset();
  spdlog::details::registry::instance().set_tp(nullptr);
}

int64_t LogMessagesDropped() {
  const std::shared_ptr<spdlog::details::thread_pool> pool = spdlog::thread_pool();
  return pool == nullptr ? 0 : static_cast<int64_t>(pool->overrun_counter());
}

}  // namespace sg::server
