// Serving against the engine's own batched decode: N concurrent greedy streams through
// `streamgen serve` (HTTP, validation, SSE, the event dispatcher) against `streamgen bench
// --parallel N` on the same model (issue 13: serving must deliver >= 80% of the bench's tokens/s).
//   node bench/serve_parallel.mjs MODEL [N=64] [NEW_TOKENS=128]
// Each stream has its own prompt (a slice of tinyshakespeare, ~128 tokens) and max_new_tokens
// NEW_TOKENS. Decode throughput is counted from the moment every stream has its first token to
// the moment the first stream ends (all N decoding together, as in the bench's tg phase). Every
// stream's text is checked: its generated_text must equal the same request run alone first
// (batching is bit-exact in the engine, so greedy text cannot depend on the company it keeps).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { streamGenerate } from "./sse_client.mjs";
import { startServer } from "../tests/e2e/server.mjs";

const [model, nArg, newArg] = process.argv.slice(2);
if (!model) throw new Error("usage: node bench/serve_parallel.mjs MODEL [N] [NEW_TOKENS]");
const N = Number(nArg ?? 64), NEW = Number(newArg ?? 128);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const binary = process.env.STREAMGEN_BIN ?? path.join(root, "build", "src", "cli", "streamgen");
const corpus = fs.readFileSync(path.join(root, "..", "shared", "data", "tinyshakespeare.txt"), "utf8");
const prompts = Array.from({ length: N }, (_, i) => corpus.slice(1000 * i, 1000 * i + 420));

const server = await startServer(["--max-concurrent-requests", String(N + 8),
  "--max-batch-size", String(N), "--max-total-tokens", "1024"], { model });
try {
  const alone = [];
  for (const p of prompts) {  // the reference texts, one request at a time
    alone.push((await streamGenerate(server.url, p, NEW, () => {})).generated_text);
  }
  const firsts = [], ends = [], times = prompts.map(() => []);
  const results = await Promise.all(prompts.map(async (p, i) => {
    const last = await streamGenerate(server.url, p, NEW, (t) => times[i].push(t));
    firsts.push(times[i][0]);
    ends.push(times[i].at(-1));
    return last;
  }));
  const bad = results.filter((r, i) => typeof r?.generated_text !== "string" ||
    r.generated_text !== alone[i]);
  const start = Math.max(...firsts), stop = Math.min(...ends);
  let tokens = 0;
  for (const ts of times) tokens += ts.filter((t) => t > start && t <= stop).length;
  const serveRate = tokens / ((stop - start) / 1000);
  const out = execFileSync(binary, ["bench", "--model", model, "-p", "128", "-n", String(NEW),
    "-r", "1", "--parallel", String(N)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const benchRate = Number(out.match(/\|\s*tg\d+\s*\|\s*([0-9.]+)/)[1]);
  console.log(`| model | streams | serve decode t/s | bench --parallel t/s | share |`);
  console.log(`| --- | ---: | ---: | ---: | ---: |`);
  console.log(`| ${path.basename(model)} | ${N} | ${serveRate.toFixed(1)} | ${benchRate.toFixed(1)} | ` +
    `${(100 * serveRate / benchRate).toFixed(0)}% |`);
  console.log(`texts: ${results.length} streams, ${bad.length} differ from the same request alone`);
  if (bad.length) process.exitCode = 1;
} finally {
  await server.stop();
}
