// The three outputs of a finished benchmark: a markdown table (stdout), a JSON document with every
// number (--json-out) and an SVG chart of latency against output-token throughput (--svg-out).
// Thread rules: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bench_serve/stats.h"
#include "cli/bench_serve/workload.h"

namespace sg::benchserve {

// One row per point; latencies in ms, throughputs per second.
std::string MarkdownTable(const std::vector<PointStats>& points);

// {"config": <as given>, "workload": {...}, "points": [{...every PointStats field...}]}.
nlohmann::json PointJson(const PointStats& p);
nlohmann::json ReportJson(const nlohmann::json& config, const Workload& workload,
                          const std::vector<PointStats>& points);

// A standalone SVG document: output tokens/s on x; mean TPOT (left axis) and p99 TTFT (right
// axis) in ms on y, one marker per point, labelled with the point's name, joined in sweep order.
std::string SvgChart(const std::vector<PointStats>& points, const std::string& title);

// Axis ticks 0, step, 2*step, ... covering [0, max_value] with about `target` intervals, the step
// 1, 2 or 5 times a power of ten. At least one interval; max_value <= 0 gives 0..1.
std::vector<double> NiceTicks(double max_value, int target);

}  // namespace sg::benchserve
