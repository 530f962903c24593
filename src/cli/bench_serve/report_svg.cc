// The throughput/latency chart, written by hand as SVG 1.1 (no library): plot area with grid,
// x axis (output tokens/s), a left axis for mean TPOT and a right one for p99 TTFT (their scales
// differ by orders of magnitude, so one axis would flatten TPOT), markers, point labels, legend.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cli/bench_serve/report.h"
#include "engine/text/jinja/html_escape.h"

namespace sg::benchserve {
namespace {

// Canvas and plot area, in SVG user units (pixels).
constexpr double kWidth = 760, kHeight = 480;
constexpr double kLeft = 80, kRight = 680, kTop = 50, kBottom = 390;
constexpr const char* kTpotColor = "#1f77b4";
constexpr const char* kTtftColor = "#d62728";

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A tick label: no trailing zeros ("0.5", "20", "1500").
std::string TickLabel(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string Text(double x, double y, const std::string& s, const char* anchor,
                 const std::string& extra = "") {
  return "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" text-anchor=\"" + anchor + "\"" + extra +
         ">" + jinja::HtmlEscape(s) + "</text>\n";
}

std::string Line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" +
         Num(y2) + "\" " + style + "/>\n";
}

struct Scale {
  double max;
  double lo, hi;  // pixel range for 0 and max
  double operator()(double v) const { return lo + (hi - lo) * v / max; }
};

// One series: a polyline in sweep order and a marker per point.
std::string Series(const std::vector<PointStats>& points, const Scale& x, const Scale& y,
                   double (*value)(const PointStats&), const char* color, bool square,
                   bool labels) {
  std::string out, path;
  for (const PointStats& p : points) {
    if (p.completed == 0) continue;
    if (!path.empty()) path.push_back(' ');
    path += Num(x(p.output_throughput));
    path.push_back(',');
    path += Num(y(value(p)));
  }
  if (!path.empty()) {
    out += "<polyline fill=\"none\" stroke=\"" + std::string(color) +
           "\" stroke-width=\"2\" points=\"" + path + "\"/>\n";
  }
  for (const PointStats& p : points) {
    if (p.completed == 0) continue;
    const double px = x(p.output_throughput), py = y(value(p));
    if (square) {
      out += "<rect x=\"" + Num(px - 4) + "\" y=\"" + Num(py - 4) +
             "\" width=\"8\" height=\"8\" fill=\"" + color + "\"/>\n";
    } else {
      out += "<circle cx=\"" + Num(px) + "\" cy=\"" + Num(py) + "\" r=\"4.5\" fill=\"" + color +
             "\"/>\n";
    }
    if (labels) {
      out += Text(px + 7, py - 7, PointLabel(p.concurrency, p.request_rate), "start",
                  " font-size=\"11\" fill=\"#333\"");
    }
  }
  return out;
}

double Tpot(const PointStats& p) { return p.tpot_ms.mean; }
double Ttft(const PointStats& p) { return p.ttft_ms.p99; }

}  // namespace

std::vector<double> NiceTicks(double max_value, int target) {
  if (!(max_value > 0) || !std::isfinite(max_value)) return {0, 1};
  const double raw = max_value / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag * 10;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> ticks;
  const int n = static_cast<int>(std::ceil(max_value / step - 1e-9));
  for (int i = 0; i <= std::max(n, 1); ++i) ticks.push_back(i * step);
  return ticks;
}

std::string SvgChart(const std::vector<PointStats>& points, const std::string& title) {
  double max_x = 0, max_tpot = 0, max_ttft = 0;
  for (const PointStats& p : points) {
    if (p.completed == 0) continue;
    max_x = std::max(max_x, p.output_throughput);
    max_tpot = std::max(max_tpot, Tpot(p));
    max_ttft = std::max(max_ttft, Ttft(p));
  }
  const std::vector<double> xt = NiceTicks(max_x, 6), lt = NiceTicks(max_tpot, 5),
                            rt = NiceTicks(max_ttft, 5);
  const Scale x{xt.back(), kLeft, kRight}, yl{lt.back(), kBottom, kTop},
      yr{rt.back(), kBottom, kTop};

  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(kWidth) + "\" height=\"" +
       Num(kHeight) + "\" viewBox=\"0 0 " + Num(kWidth) + " " + Num(kHeight) +
       "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += Text(kWidth / 2, 24, title, "middle", " font-size=\"15\" font-weight=\"bold\"");
  // Grid and ticks: x ticks at the bottom, TPOT ticks left, TTFT ticks right.
  for (double v : xt) {
    s += Line(x(v), kTop, x(v), kBottom, "stroke=\"#e5e5e5\"");
    s += Line(x(v), kBottom, x(v), kBottom + 5, "stroke=\"black\"");
    s += Text(x(v), kBottom + 18, TickLabel(v), "middle");
  }
  for (double v : lt) {
    s += Line(kLeft, yl(v), kRight, yl(v), "stroke=\"#e5e5e5\"");
    s += Line(kLeft - 5, yl(v), kLeft, yl(v), "stroke=\"black\"");
    s += Text(kLeft - 8, yl(v) + 4, TickLabel(v), "end",
              std::string(" fill=\"") + kTpotColor + "\"");
  }
  for (double v : rt) {
    s += Line(kRight, yr(v), kRight + 5, yr(v), "stroke=\"black\"");
    s += Text(kRight + 8, yr(v) + 4, TickLabel(v), "start",
              std::string(" fill=\"") + kTtftColor + "\"");
  }
  s += "<rect x=\"" + Num(kLeft) + "\" y=\"" + Num(kTop) + "\" width=\"" + Num(kRight - kLeft) +
       "\" height=\"" + Num(kBottom - kTop) + "\" fill=\"none\" stroke=\"black\"/>\n";
  // Axis titles.
  s += Text((kLeft + kRight) / 2, kBottom + 40, "output token throughput (tokens/s)", "middle");
  s += Text(22, (kTop + kBottom) / 2, "mean TPOT (ms)", "middle",
            std::string(" fill=\"") + kTpotColor + "\" transform=\"rotate(-90 22 " +
                Num((kTop + kBottom) / 2) + ")\"");
  const double rx = kWidth - 18;
  s += Text(rx, (kTop + kBottom) / 2, "p99 TTFT (ms)", "middle",
            std::string(" fill=\"") + kTtftColor + "\" transform=\"rotate(90 " + Num(rx) + " " +
                Num((kTop + kBottom) / 2) + ")\"");
  s += Series(points, x, yl, Tpot, kTpotColor, /*square=*/false, /*labels=*/true);
  s += Series(points, x, yr, Ttft, kTtftColor, /*square=*/true, /*labels=*/true);
  // Legend, one row under the x axis title (outside the plot, so it never hides a point).
  const double ly = kHeight - 14;
  s += "<circle cx=\"" + Num(kLeft + 4) + "\" cy=\"" + Num(ly - 4) + "\" r=\"4.5\" fill=\"" +
       kTpotColor + "\"/>\n";
  s += Text(kLeft + 14, ly, "mean TPOT (left axis)", "start");
  s += "<rect x=\"" + Num(kLeft + 200) + "\" y=\"" + Num(ly - 8) +
       "\" width=\"8\" height=\"8\" fill=\"" + kTtftColor + "\"/>\n";
  s += Text(kLeft + 214, ly, "p99 TTFT (right axis)", "start");
  s += Text(kRight, ly, "labels: c = concurrency, rate = req/s", "end",
            " font-size=\"11\" fill=\"#555\"");
  s += "</svg>\n";
  return s;
}

}  // namespace sg::benchserve
