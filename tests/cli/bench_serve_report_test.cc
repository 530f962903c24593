// The serving benchmark's reports: the markdown table's shape, the JSON document's numbers, the
// SVG's well-formedness (every tag closed, in order) and the axis ticks.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli/bench_serve/report.h"

namespace sg::benchserve::report_test {
namespace {

std::vector<PointStats> TwoPoints() {
  PointStats a;
  a.concurrency = 1;
  a.completed = 8;
  a.output_throughput = 950.5;
  a.request_throughput = 3.25;
  a.ttft_ms = {8, 5.5, 5.0, 9.0, 12.25};
  a.tpot_ms = {8, 1.5, 1.4, 1.9, 2.0};
  PointStats b = a;
  b.concurrency = 4;
  b.errors = 1;
  b.overloaded = 2;
  b.output_throughput = 3100;
  b.ttft_ms.p99 = 40;
  b.tpot_ms.mean = 3.5;
  return {a, b};
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

size_t Cells(const std::string& row) { return std::count(row.begin(), row.end(), '|') - 1; }

TEST(BenchServeReport, MarkdownOneRowPerPoint) {
  const std::vector<std::string> lines = Lines(MarkdownTable(TwoPoints()));
  ASSERT_GE(lines.size(), 4u);
  const size_t columns = Cells(lines[0]);
  EXPECT_EQ(columns, 16u);
  EXPECT_EQ(Cells(lines[1]), columns);
  EXPECT_EQ(Cells(lines[2]), columns);
  EXPECT_EQ(Cells(lines[3]), columns);
  EXPECT_EQ(lines[2].rfind("| c=1 | 8 | 0 | 0 | 3.25 | 950.5 |", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("| c=4 | 8 | 1 | 2 |", 0), 0u) << lines[3];
  EXPECT_NE(lines[2].find("| 5.50 | 5.00 | 12.25 |"), std::string::npos) << lines[2];
}

TEST(BenchServeReport, JsonHasEveryNumber) {
  Workload w;
  w.prompts = {"a", "b"};
  w.prompt_tokens = {3, 4};
  w.source = "synthetic";
  w.token_counts = "fake";
  const nlohmann::json j = ReportJson({{"url", "http://x:1"}}, w, TwoPoints());
  EXPECT_EQ(j["config"]["url"], "http://x:1");
  EXPECT_EQ(j["workload"]["prompts"], 2);
  ASSERT_EQ(j["points"].size(), 2u);
  const nlohmann::json& p = j["points"][1];
  EXPECT_EQ(p["label"], "c=4");
  EXPECT_EQ(p["errors"], 1);
  EXPECT_EQ(p["overloaded_429"], 2);
  EXPECT_DOUBLE_EQ(p["ttft_ms"]["p99"].get<double>(), 40);
  for (const char* k : {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"}) {
    for (const char* s : {"mean", "p50", "p90", "p99", "n"}) {
      EXPECT_TRUE(p[k].contains(s)) << k << "." << s;
    }
  }
  for (const char* k : {"request_throughput", "output_throughput", "total_token_throughput",
                        "completed", "duration_s", "retry_after_max_s", "input_tokens"}) {
    EXPECT_TRUE(p.contains(k)) << k;
  }
}

// Tags open and close in order, attributes quoted; returns the element names seen.
std::vector<std::string> CheckWellFormed(const std::string& svg) {
  std::vector<std::string> stack, names;
  const std::regex tag(R"(<(/?)([a-zA-Z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<]*")*)\s*(/?)>)");
  const std::regex bare_amp("&(?!amp;|lt;|gt;|quot;|#[0-9]+;)");
  size_t pos = svg.find("<svg");
  EXPECT_NE(pos, std::string::npos);
  while (true) {
    const size_t lt = svg.find('<', pos);
    if (lt == std::string::npos) break;
    std::smatch m;
    const std::string rest = svg.substr(lt, 600);
    EXPECT_TRUE(std::regex_search(rest, m, tag, std::regex_constants::match_continuous))
        << "bad tag at " << rest.substr(0, 80);
    if (m.empty()) return names;
    const std::string name = m[2];
    if (m[1] == "/") {
      EXPECT_FALSE(stack.empty());
      if (stack.empty()) return names;
      EXPECT_EQ(stack.back(), name);
      stack.pop_back();
    } else {
      names.push_back(name);
      if (m[4] != "/") stack.push_back(name);
    }
    pos = lt + m.length(0);
    const std::string text = svg.substr(pos, svg.find('<', pos) - pos);
    EXPECT_EQ(text.find('>'), std::string::npos);
    EXPECT_FALSE(std::regex_search(text, bare_amp)) << text;
  }
  EXPECT_TRUE(stack.empty());
  return names;
}

TEST(BenchServeReport, SvgIsWellFormedAndHasTheChart) {
  const std::string svg = SvgChart(TwoPoints(), "bench <test> & co");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  const std::vector<std::string> names = CheckWellFormed(svg);
  EXPECT_EQ(std::count(names.begin(), names.end(), "polyline"), 2);  // two series
  EXPECT_EQ(std::count(names.begin(), names.end(), "circle"), 3);    // 2 points + legend
  EXPECT_NE(svg.find("bench &lt;test&gt; &amp; co"), std::string::npos);
  EXPECT_NE(svg.find("output token throughput (tokens/s)"), std::string::npos);
  EXPECT_NE(svg.find(">c=4<"), std::string::npos);
  // The x axis reaches past the fastest point (3100 tokens/s): its last tick is 4000.
  EXPECT_NE(svg.find(">4000</text>"), std::string::npos);
  // No point: still a valid, empty chart.
  CheckWellFormed(SvgChart({}, "empty"));
}

TEST(BenchServeReport, NiceTicks) {
  EXPECT_EQ(NiceTicks(3100, 6), (std::vector<double>{0, 1000, 2000, 3000, 4000}));
  EXPECT_EQ(NiceTicks(2900, 6), (std::vector<double>{0, 500, 1000, 1500, 2000, 2500, 3000}));
  EXPECT_EQ(NiceTicks(40, 5), (std::vector<double>{0, 10, 20, 30, 40}));
  const std::vector<double> small = NiceTicks(0.9, 5);  // step 0.2, up to 1.0
  ASSERT_EQ(small.size(), 6u);
  EXPECT_NEAR(small[1], 0.2, 1e-12);
  EXPECT_NEAR(small.back(), 1.0, 1e-12);
  EXPECT_EQ(NiceTicks(0, 5), (std::vector<double>{0, 1}));
}

}  // namespace
}  // namespace sg::benchserve::report_test
