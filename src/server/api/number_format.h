// Number text exactly as TGI's Rust code writes it. Pure; any thread.
#pragma once

#include <string>

namespace sg::api {

// serde_json's f32 (the `ryu` crate's f32 layout): the shortest digits that round-trip the FLOAT
// value (not its widened double), laid out by ryu's rules: "1.0", "-1.5351562", "0.00001234",
// "1.234e-7", "1e30"; NaN and +-inf are `null` (serde_json writes them so).
std::string FormatF32(float v);
void AppendF32(std::string& out, float v);
// serde_json's f64 (ryu's f64 layout: positional for 1e-5 <= |v| < 1e16): "0.1", "100.0",
// "1000000000000000.0", "1e16", "0.00001", "1e-6", "1.5e-7"; NaN and +-inf are `null`.
void AppendF64(std::string& out, double v);

// Rust's `Display` for f64 (`format!("{}", x)`): shortest round-trip digits, always positional
// (never an exponent): "0.00015", "3", "1000000000000000000000", "-0", "inf", "NaN". Used by the
// Prometheus exporter for values and bucket bounds, and by serde's error texts.
std::string FormatF64Display(double v);

}  // namespace sg::api
