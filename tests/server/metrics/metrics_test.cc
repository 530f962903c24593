// /metrics text exactly as TGI's exporter writes it, for small scenarios.
#include "server/metrics/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sg::server {
namespace {

// TGI's duration bucket bounds as Rust prints them (`0.0001 * 1.5` iterated, f64 Display),
// produced by Rust itself.
const char* const kDurationLe[35] = {
    "0.00015000000000000001",
    "0.00022500000000000002",
    "0.0003375",
    "0.00050625",
    "0.000759375",
    "0.0011390624999999999",
    "0.0017085937499999998",
    "0.0025628906249999996",
    "0.0038443359374999994",
    "0.00576650390625",
    "0.008649755859375",
    "0.0129746337890625",
    "0.01946195068359375",
    "0.029192926025390625",
    "0.043789389038085935",
    "0.0656840835571289",
    "0.09852612533569335",
    "0.14778918800354002",
    "0.22168378200531003",
    "0.33252567300796504",
    "0.49878850951194753",
    "0.7481827642679213",
    "1.122274146401882",
    "1.683411219602823",
    "2.5251168294042348",
    "3.787675244106352",
    "5.681512866159528",
    "8.52226929923929",
    "12.783403948858936",
    "19.175105923288406",
    "28.76265888493261",
    "43.143988327398915",
    "64.71598249109837",
    "97.07397373664756",
    "145.61096060497135",
};

TEST(Metrics, NothingBeforeTheFirstRecord) {
  Metrics m(1023, 1024);
  EXPECT_EQ(m.Render(), "");
}

TEST(Metrics, ExactTextOfASmallScenario) {
  Metrics m(1023, 1024);
  m.RequestReceived();
  m.RequestReceived();
  m.RequestFailed(FailureReason::kValidation);
  m.SetQueueSize(3);
  EXPECT_TRUE(m.Observe("tgi_request_queue_duration", 0.0004));
  std::string expected =
      "# HELP tgi_request_count Total number of requests\n"
      "# TYPE tgi_request_count counter\n"
      "tgi_request_count 2\n"
      "\n"
      "# TYPE tgi_request_failure counter\n"  // TGI never describes it: no HELP
      "tgi_request_failure{err=\"validation\"} 1\n"
      "\n"
      "# HELP tgi_queue_size Current queue size\n"
      "# TYPE tgi_queue_size gauge\n"
      "tgi_queue_size 3\n"
      "\n"
      "# HELP tgi_request_queue_duration Request queue duration\n"
      "# TYPE tgi_request_queue_duration histogram\n";
  for (int k = 0; k < 35; ++k) {  // 0.0004 lands in the 4th bucket (0.00050625)
    expected += std::string("tgi_request_queue_duration_bucket{le=\"") + kDurationLe[k] + "\"} " +
                (k >= 3 ? "1" : "0") + "\n";
  }
  expected +=
      "tgi_request_queue_duration_bucket{le=\"+Inf\"} 1\n"
      "tgi_request_queue_duration_sum 0.0004\n"
      "tgi_request_queue_duration_count 1\n"
      "\n";
  EXPECT_EQ(m.Render(), expected);
}

TEST(Metrics, LabelSetsAppearLazilyAndBucketLayoutsFollowTheLimits) {
  Metrics m(1023, 2048);
  m.RequestFailed(FailureReason::kDropped);
  m.RequestFailed(FailureReason::kOverloaded);
  m.RequestFailed(FailureReason::kDropped);
  m.RequestValidated(20, 1024);
  m.BatchNextSize(3);
  m.BatchInference(BatchMethod::kDecode, true, 0.01);
  const std::string text = m.Render();
  EXPECT_NE(text.find("tgi_request_failure{err=\"overloaded\"} 1\n"
                      "tgi_request_failure{err=\"dropped\"} 2\n"),
            std::string::npos);
  EXPECT_EQ(text.find("err=\"validation\""), std::string::npos);
  // input_length: max_input_tokens / 100 x (1..100); max_new_tokens: max_total_tokens / 100 x ...
  EXPECT_NE(text.find("tgi_request_input_length_bucket{le=\"10.23\"} 0\n"
                      "tgi_request_input_length_bucket{le=\"20.46\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("tgi_request_input_length_bucket{le=\"51.150000000000006\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("tgi_request_max_new_tokens_bucket{le=\"1003.52\"} 0\n"
                      "tgi_request_max_new_tokens_bucket{le=\"1024\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("tgi_request_max_new_tokens_bucket{le=\"2048\"} 1\n"
                      "tgi_request_max_new_tokens_bucket{le=\"+Inf\"} 1\n"
                      "tgi_request_max_new_tokens_sum 1024\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("tgi_batch_next_size_bucket{le=\"2\"} 0\ntgi_batch_next_size_bucket{le=\"3\"} 1"),
      std::string::npos);
  EXPECT_NE(text.find("tgi_batch_next_size_bucket{le=\"1024\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# HELP tgi_batch_inference_count Inference calls per method (prefill or "
                      "decode)\n# TYPE tgi_batch_inference_count counter\n"
                      "tgi_batch_inference_count{method=\"decode\"} 1\n\n"),
            std::string::npos);
  EXPECT_NE(text.find("tgi_batch_inference_success{method=\"decode\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("tgi_batch_inference_failure"), std::string::npos);
  EXPECT_NE(
      text.find(
          "tgi_batch_inference_duration_bucket{method=\"decode\",le=\"0.0129746337890625\"} 1\n"),
      std::string::npos);
  EXPECT_EQ(text.find("method=\"prefill\""), std::string::npos);
}

TEST(Metrics, SampledGaugesAndStepCounts) {
  Metrics m(10, 20);
  Gauges g;
  g.queue_size = 1;
  g.batch_current_size = 2;
  g.batch_current_max_tokens = 30;
  g.batch_max_total_tokens = 4096;
  g.kv_blocks_free = 5;
  g.kv_blocks_total = 8;
  g.requests_in_flight = 2;
  g.steps_prefill = 7;
  g.engine_step_seconds = 1.5;
  g.event_handoff_seconds = 0.001;
  g.event_delivery_seconds = 0.25;
  g.events_delivered = 100;
  g.log_messages_dropped = 3;
  g.kv_blocks_cached = 4;
  g.prefix_queried_tokens = 100;
  g.prefix_hit_tokens = 75;
  g.prefix_evictions = 2;
  g.drain_per_second = 0.5;
  const std::string text = m.Render(g);
  EXPECT_EQ(
      text,
      "# HELP tgi_batch_inference_count Inference calls per method (prefill or decode)\n"
      "# TYPE tgi_batch_inference_count counter\n"
      "tgi_batch_inference_count{method=\"prefill\"} 7\n"
      "\n"
      "# HELP tgi_queue_size Current queue size\n"
      "# TYPE tgi_queue_size gauge\n"
      "tgi_queue_size 1\n"
      "\n"
      "# HELP tgi_batch_current_size Current batch size\n"
      "# TYPE tgi_batch_current_size gauge\n"
      "tgi_batch_current_size 2\n"
      "\n"
      "# HELP tgi_batch_current_max_tokens Maximum tokens for the current batch\n"
      "# TYPE tgi_batch_current_max_tokens gauge\n"
      "tgi_batch_current_max_tokens 30\n"
      "\n"
      "# TYPE tgi_batch_max_total_tokens gauge\n"
      "tgi_batch_max_total_tokens 4096\n"
      "\n"
      "# HELP streamgen_kv_blocks_free Free blocks in the KV cache pool\n"
      "# TYPE streamgen_kv_blocks_free gauge\n"
      "streamgen_kv_blocks_free 5\n"
      "\n"
      "# HELP streamgen_kv_blocks_total Blocks in the KV cache pool\n"
      "# TYPE streamgen_kv_blocks_total gauge\n"
      "streamgen_kv_blocks_total 8\n"
      "\n"
      "# HELP streamgen_requests_in_flight Requests holding a concurrency permit\n"
      "# TYPE streamgen_requests_in_flight gauge\n"
      "streamgen_requests_in_flight 2\n"
      "\n"
      "# HELP streamgen_engine_step_seconds Engine thread time in steps so far (forward pass, "
      "sampling, detokenizing)\n"
      "# TYPE streamgen_engine_step_seconds gauge\n"
      "streamgen_engine_step_seconds 1.5\n"
      "\n"
      "# HELP streamgen_event_handoff_seconds Engine thread time handing events to the "
      "dispatcher so far\n"
      "# TYPE streamgen_event_handoff_seconds gauge\n"
      "streamgen_event_handoff_seconds 0.001\n"
      "\n"
      "# HELP streamgen_event_delivery_seconds Dispatcher thread time in event callbacks so far "
      "(JSON, SSE, metrics, logs)\n"
      "# TYPE streamgen_event_delivery_seconds gauge\n"
      "streamgen_event_delivery_seconds 0.25\n"
      "\n"
      "# HELP streamgen_events_delivered Events delivered to requests so far\n"
      "# TYPE streamgen_events_delivered gauge\n"
      "streamgen_events_delivered 100\n"
      "\n"
      "# HELP streamgen_log_messages_dropped Log messages dropped because the log queue was full "
      "(stdout stalled)\n"
      "# TYPE streamgen_log_messages_dropped gauge\n"
      "streamgen_log_messages_dropped 3\n"
      "\n"
      "# HELP streamgen_kv_blocks_cached KV blocks holding a cached prompt prefix (in use or "
      "evictable)\n"
      "# TYPE streamgen_kv_blocks_cached gauge\n"
      "streamgen_kv_blocks_cached 4\n"
      "\n"
      "# HELP streamgen_prefix_cache_queried_tokens Prompt tokens looked up in the prefix cache\n"
      "# TYPE streamgen_prefix_cache_queried_tokens counter\n"
      "streamgen_prefix_cache_queried_tokens 100\n"
      "\n"
      "# HELP streamgen_prefix_cache_hit_tokens Prompt tokens found in the prefix cache (not "
      "recomputed)\n"
      "# TYPE streamgen_prefix_cache_hit_tokens counter\n"
      "streamgen_prefix_cache_hit_tokens 75\n"
      "\n"
      "# HELP streamgen_prefix_cache_hit_ratio Prompt tokens found in the prefix cache / tokens "
      "looked up, since the start\n"
      "# TYPE streamgen_prefix_cache_hit_ratio gauge\n"
      "streamgen_prefix_cache_hit_ratio 0.75\n"
      "\n"
      "# HELP streamgen_prefix_cache_evictions Cached KV blocks evicted to make room\n"
      "# TYPE streamgen_prefix_cache_evictions counter\n"
      "streamgen_prefix_cache_evictions 2\n"
      "\n"
      "# HELP streamgen_request_drain_rate Requests finishing per second (concurrency permits "
      "released; smoothed over about 10 s)\n"
      "# TYPE streamgen_request_drain_rate gauge\n"
      "streamgen_request_drain_rate 0.5\n"
      "\n");
}

TEST(Metrics, RequestSuccessRecordsTheDurationsAndTokens) {
  Metrics m(10, 100);
  m.RequestSucceeded({1.5, 0.001, 0.002, 1.4, 0.1}, 14);
  const std::string text = m.Render();
  EXPECT_NE(text.find("tgi_request_success 1\n"), std::string::npos);
  for (const char* name :
       {"tgi_request_duration_sum 1.5", "tgi_request_validation_duration_sum 0.001",
        "tgi_request_queue_duration_sum 0.002", "tgi_request_inference_duration_sum 1.4",
        "tgi_request_mean_time_per_token_duration_sum 0.1",
        "tgi_request_generated_tokens_sum 14"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  EXPECT_NE(text.find("# HELP tgi_request_duration Request duration\n"), std::string::npos);
}

TEST(Metrics, ByNameRecordingIgnoresUnknownNames) {
  Metrics m(10, 20);
  EXPECT_TRUE(m.IncCounter("tgi_request_count"));
  EXPECT_TRUE(m.IncCounter("tgi_request_failure", "err=\"generation\""));
  EXPECT_FALSE(m.IncCounter("tgi_request_failure", "err=\"bogus\""));
  EXPECT_FALSE(m.IncCounter("no_such_metric"));
  EXPECT_FALSE(m.Observe("tgi_batch_forward_duration", 1.0));  // labelled: use the named call
  EXPECT_TRUE(m.Observe("tgi_request_generated_tokens", 3));
  EXPECT_NE(m.Render().find("tgi_request_failure{err=\"generation\"} 1\n"), std::string::npos);
}

TEST(Metrics, ConcurrentRecordingLosesNothing) {
  Metrics m(1023, 1024);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) {
        m.RequestReceived();
        m.RequestValidated(i % 1000, 5);
        m.BatchInference(BatchMethod::kPrefill, true, 0.001);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const std::string text = m.Render();
  EXPECT_NE(text.find("tgi_request_count 40000\n"), std::string::npos);
  EXPECT_NE(text.find("tgi_request_input_length_count 40000\n"), std::string::npos);
  EXPECT_NE(text.find("tgi_request_input_length_bucket{le=\"+Inf\"} 40000\n"), std::string::npos);
  EXPECT_NE(text.find("tgi_request_max_new_tokens_sum 200000\n"), std::string::npos);
  EXPECT_NE(text.find("tgi_batch_inference_count{method=\"prefill\"} 40000\n"), std::string::npos);
}

}  // namespace
}  // namespace sg::server
