// `streamgen bench-serve` against a real `streamgen serve` (the demo model): a short concurrency
// sweep (1, 4) on each streaming endpoint, checked through its --json-out (every request completed,
// no errors, TTFT <= E2E, the asked-for token counts, exact prompt lengths) and its --svg-out
// (a whole SVG document); then a server that admits one request at a time under 4 clients, where
// the refusals are counted as 429s and the run still succeeds.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startServer, binary } from "./server.mjs";

const run = promisify(execFile);
const PROMPTS = 6;
const NEW_TOKENS = 8;
const INPUT_LEN = 24;

let server;
let dir;
before(async () => {
  server = await startServer(["--max-concurrent-requests", "16"]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sg-bench-serve-"));
});
after(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function benchServe(url, args, name) {
  const json = path.join(dir, `${name}.json`);
  const svg = path.join(dir, `${name}.svg`);
  const { stdout, stderr } = await run(binary, ["bench-serve", "--url", url, "--json-out", json,
    "--svg-out", svg, ...args], { timeout: 20000 });
  return { stdout, stderr, report: JSON.parse(fs.readFileSync(json, "utf8")),
    svg: fs.readFileSync(svg, "utf8") };
}

for (const endpoint of ["generate_stream", "completions", "chat"]) {
  test(`bench-serve ${endpoint}: concurrency 1,4, every request complete and consistent`, async () => {
    const { stdout, stderr, report, svg } = await benchServe(server.url, ["--endpoint", endpoint,
      "--concurrency", "1,4", "--num-prompts", String(PROMPTS), "--max-new-tokens",
      String(NEW_TOKENS), "--input-len", String(INPUT_LEN), "--seed", "3"], endpoint);
    assert.equal(report.config.endpoint, endpoint);
    assert.equal(report.workload.token_counts, "server /tokenize");
    // Every point of the sweep gets its own prompts: 2 points x PROMPTS, each exactly INPUT_LEN.
    assert.deepEqual(report.workload.prompt_tokens, Array(2 * PROMPTS).fill(INPUT_LEN));
    assert.deepEqual(report.points.map((p) => p.concurrency), [1, 4]);
    for (const p of report.points) {
      assert.equal(p.requests, PROMPTS, JSON.stringify(p));
      assert.equal(p.completed, PROMPTS, JSON.stringify(p.error_samples));
      assert.equal(p.errors, 0);
      assert.equal(p.overloaded_429, 0);
      // Greedy, and the demo model may end a stream at EOS: at most NEW_TOKENS each.
      assert.ok(p.output_tokens >= PROMPTS && p.output_tokens <= PROMPTS * NEW_TOKENS, `${p.output_tokens}`);
      // The server's input counts (BOS included on the native route; the chat template's text
      // on chat) are at least the prompts' own tokens.
      assert.ok(p.input_tokens >= PROMPTS * INPUT_LEN, `${p.input_tokens}`);
      assert.ok(p.ttft_ms.mean > 0);
      assert.ok(p.ttft_ms.mean <= p.e2e_ms.mean, JSON.stringify(p));
      assert.ok(p.ttft_ms.p99 <= p.e2e_ms.p99 + 1e-9, JSON.stringify(p));
      for (const k of ["ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"]) {
        assert.ok(p[k].p50 <= p[k].p90 && p[k].p90 <= p[k].p99, `${k} ${JSON.stringify(p[k])}`);
      }
      assert.ok(p.output_throughput > 0 && p.request_throughput > 0);
      assert.ok(p.total_token_throughput > p.output_throughput);
    }
    // The markdown table: header, rule, one row per point.
    const rows = stdout.split("\n").filter((l) => l.startsWith("| c="));
    assert.deepEqual(rows.map((r) => r.split("|")[1].trim()), ["c=1", "c=4"]);
    assert.match(stderr, /c=4 .*6\/6 requests/);
    assert.match(svg, /^<\?xml[^>]*>\s*<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
  });
}

test("bench-serve: a shared prefix is token-exact in every prompt", async () => {
  const { report } = await benchServe(server.url, ["--concurrency", "4", "--num-prompts", "8",
    "--max-new-tokens", "2", "--shared-prefix-len", "200", "--input-len", "16"], "prefix");
  assert.equal(report.workload.prefix_exact, 8);
  assert.deepEqual(report.workload.prompt_tokens, Array(8).fill(216));
  assert.equal(report.points[0].completed, 8);
});

test("bench-serve: refusals of a full server are counted as 429s, not fatal", async () => {
  const small = await startServer(["--max-concurrent-requests", "1"]);
  try {
    // 64 tokens: each admitted stream lasts long enough that the other 3 clients meet it.
    const { report } = await benchServe(small.url, ["--concurrency", "4", "--num-prompts", "12",
      "--max-new-tokens", "64"], "overloaded");
    const [p] = report.points;
    assert.equal(p.requests, 12);
    assert.equal(p.errors, 0, JSON.stringify(p.error_samples));
    assert.ok(p.overloaded_429 >= 1, JSON.stringify(p));
    assert.ok(p.completed >= 1, JSON.stringify(p));
    assert.equal(p.completed + p.overloaded_429, 12);
  } finally {
    await small.stop();
  }
});

// The permit is returned before the client sees the end of its answer, so one client sending
// requests back to back (bench-serve's C++ client reconnects within microseconds) never finds its
// own previous request still holding the only permit. Before the fix, a stream's permit was
// released only after its final event had been written, and this run saw 429s.
test("bench-serve: one sequential client is never refused by its own previous request", async () => {
  const one = await startServer(["--max-concurrent-requests", "1"]);
  try {
    for (const endpoint of ["generate_stream", "completions", "chat"]) {
      const { report } = await benchServe(one.url, ["--endpoint", endpoint, "--concurrency", "1",
        "--num-prompts", "40", "--max-new-tokens", "4", "--input-len", "8"], `sequential-${endpoint}`);
      const [p] = report.points;
      assert.equal(p.overloaded_429, 0, `${endpoint}: ${JSON.stringify(p.error_samples)}`);
      assert.equal(p.completed, 40, endpoint);
    }
  } finally {
    await one.stop();
  }
});

test("bench-serve: nothing listening is one clear error", async () => {
  await assert.rejects(run(binary, ["bench-serve", "--url", "http://127.0.0.1:9"]),
    (e) => e.code === 1 && /cannot connect to 127\.0\.0\.1:9: Connection refused/.test(e.stderr));
});
