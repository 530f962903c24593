// How the step token budget (--max-batch-prefill-tokens) trades new requests' time to first token
// against the decode speed of the streams already running (issue 13, part 5).
//   node bench/serve_tradeoff.mjs MODEL [BUDGETS=128,256,512,1024,2048] [STREAMS=16]
// For each budget, a fresh `streamgen serve`: STREAMS greedy streams (~128-token prompts) decode
// 256 tokens each; once all of them stream, 4 long requests (~1 000-token prompts, 8 new tokens)
// arrive one every 3 s. Printed per budget: the long requests' TTFT (mean, max), the running
// streams' inter-token latency while the long prompts are prefilled (mean, p99, max) and their
// aggregate decode tokens/s over the whole window. A larger budget prefills a long prompt in fewer,
// more efficient steps (lower TTFT) but each of those steps holds every running stream's next
// token for longer (higher ITL tail).
import fs from "node:fs";
import path from "node:path";
import { streamGenerate } from "./sse_client.mjs";
import { startServer } from "../tests/e2e/server.mjs";

const [model, budgetsArg, streamsArg] = process.argv.slice(2);
if (!model) throw new Error("usage: node bench/serve_tradeoff.mjs MODEL [BUDGETS] [STREAMS]");
const budgets = (budgetsArg ?? "128,256,512,1024,2048").split(",").map(Number);
const STREAMS = Number(streamsArg ?? 16), LONG = 4, DECODE_TOKENS = 256;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const corpus = fs.readFileSync(path.join(root, "..", "shared", "data", "tinyshakespeare.txt"), "utf8");
const shortPrompts = Array.from({ length: STREAMS }, (_, i) => corpus.slice(900 * i, 900 * i + 420));
const longPrompts = Array.from({ length: LONG }, (_, i) =>
  corpus.slice(200000 + 5000 * i, 200000 + 5000 * i + 3300));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
const quantile = (a, q) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function tokenCount(url, text) {
  const r = await fetch(`${url}/tokenize`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: text }),
  });
  return (await r.json()).length;
}

const rows = [];
for (const budget of budgets) {
  const server = await startServer(["--max-concurrent-requests", String(STREAMS + LONG + 8),
    "--max-input-tokens", "1536", "--max-total-tokens", "2048",
    "--max-batch-prefill-tokens", String(budget)], { model });
  try {
    if (rows.length === 0) {
      const n = await Promise.all(longPrompts.map((p) => tokenCount(server.url, p)));
      const m = await Promise.all(shortPrompts.map((p) => tokenCount(server.url, p)));
      console.log(`long prompts ${Math.min(...n)}..${Math.max(...n)} tokens, ` +
        `running streams' prompts ${Math.min(...m)}..${Math.max(...m)} tokens`);
    }
    await streamGenerate(server.url, longPrompts[0], 2, () => {});  // warm up
    const times = shortPrompts.map(() => []);
    let started = 0, allStreaming;
    const streaming = new Promise((r) => { allStreaming = r; });
    const running = shortPrompts.map((p, i) => streamGenerate(server.url, p, DECODE_TOKENS, (t) => {
      if (times[i].length === 0 && ++started === STREAMS) allStreaming();
      times[i].push(t);
    }));
    await streaming;
    const windowStart = performance.now();
    const ttft = [];
    const longs = longPrompts.map(async (p, i) => {
      await sleep(3000 * i);
      const sent = performance.now();
      let first = null;
      await streamGenerate(server.url, p, 8, (t) => { if (first === null) first = t; });
      ttft.push(first - sent);
    });
    await Promise.all(longs);
    const windowEnd = performance.now();
    await Promise.all(running);
    const gaps = [];
    let tokens = 0;
    for (const ts of times) {
      for (let k = 1; k < ts.length; ++k) {
        if (ts[k] > windowStart && ts[k] <= windowEnd) {
          gaps.push(ts[k] - ts[k - 1]);
          ++tokens;
        }
      }
    }
    rows.push({ budget, ttft, gaps, rate: tokens / ((windowEnd - windowStart) / 1000) });
    console.log(`budget ${budget}: done`);
  } finally {
    await server.stop();
  }
}
console.log(`\n${path.basename(model)}: ${STREAMS} streams decoding, ${LONG} long prompts arriving`);
console.log("| --max-batch-prefill-tokens | long-prompt TTFT mean / max (ms) | " +
  "running streams' ITL mean / p99 / max (ms) | running streams' decode t/s |");
console.log("| ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.budget} | ${mean(r.ttft).toFixed(0)} / ${Math.max(...r.ttft).toFixed(0)} | ` +
    `${mean(r.gaps).toFixed(1)} / ${quantile(r.gaps, 0.99).toFixed(1)} / ` +
    `${Math.max(...r.gaps).toFixed(1)} | ${r.rate.toFixed(1)} |`);
}
