// Many open streams on one server: 16 greedy streams decode while 1 000 more stream requests sit
// open in the queue (their connections held, waiting for a batch slot). Prints the server's
// resident memory before and with the idle streams (the cost of one open stream), and the 16
// streams' decode tokens/s without and with the idle ones (issue 15: memory bounded, speed kept).
//   node bench/idle_streams.mjs [MODEL] [IDLE=1000] [ACTIVE=16] [NEW_TOKENS=160]
// The server runs with --max-batch-size ACTIVE, so exactly ACTIVE sequences decode and the idle
// requests wait in the scheduler's queue; the idle clients are raw sockets that send a
// /generate_stream request and read nothing. Decode throughput is counted as in
// serve_parallel.mjs: from the moment every active stream has its first token (and, in the second
// run, every idle request is queued) until the first one ends.
import fs from "node:fs";
import net from "node:net";
import { streamGenerate } from "./sse_client.mjs";
import { demoModel, startServer, sleep } from "../tests/e2e/server.mjs";

const [modelArg, idleArg, activeArg, newArg] = process.argv.slice(2);
const model = modelArg ?? demoModel;
const IDLE = Number(idleArg ?? 1000), ACTIVE = Number(activeArg ?? 16), NEW = Number(newArg ?? 160);

const rssKiB = (pid) =>
  Number(fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]);

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} ([0-9.e+-]+)$`, "m"));
  return m ? Number(m[1]) : NaN;
}

// ACTIVE concurrent streams; resolves with their decode tokens/s once all ended. `whileDecoding`
// runs once every stream has its first token (all decoding together).
async function decodeRate(url, whileDecoding = async () => {}) {
  const times = Array.from({ length: ACTIVE }, () => []);
  let started = 0, hook = null;
  const runs = times.map((ts, i) => streamGenerate(url, `ROMEO ${i}:\nWhat light`, NEW, (t) => {
    ts.push(t);
    if (ts.length === 1 && ++started === ACTIVE) hook = whileDecoding();
  }));
  await Promise.all(runs);
  const extra = await hook;
  // With idle streams, count from the moment they are all queued (their connections and
  // validation are not the steady state being measured).
  const start = Math.max(...times.map((ts) => ts[0]), extra?.at ?? 0);
  const stop = Math.min(...times.map((ts) => ts.at(-1)));
  let tokens = 0;
  for (const ts of times) tokens += ts.filter((t) => t > start && t <= stop).length;
  return { rate: tokens / ((stop - start) / 1000), extra };
}

function openIdle(port, n) {
  const body = JSON.stringify({ inputs: "JULIET:\nO", parameters: { max_new_tokens: 4 } });
  const req = `POST /generate_stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  return Array.from({ length: n }, () => {
    const s = net.connect(port, "127.0.0.1", () => s.write(req));
    s.on("error", () => {});
    s.pause();  // read nothing: an idle client
    return s;
  });
}

const server = await startServer(["--max-concurrent-requests", String(IDLE + ACTIVE + 8),
  "--max-batch-size", String(ACTIVE), "--max-total-tokens", "512"], { model });
try {
  await decodeRate(server.url);  // warm up
  const alone = await decodeRate(server.url);
  const rssBefore = rssKiB(server.proc.pid);
  let sockets = [];
  const withIdle = await decodeRate(server.url, async () => {
    sockets = openIdle(server.port, IDLE);
    for (let i = 0; i < 400 && (await metric(server.url, "tgi_queue_size")) < IDLE; ++i) {
      await sleep(25);
    }
    return { queued: await metric(server.url, "tgi_queue_size"), rss: rssKiB(server.proc.pid),
      at: performance.now() };
  });
  for (const s of sockets) s.destroy();
  const { queued, rss } = withIdle.extra;
  console.log(`model ${model}; ${ACTIVE} active streams of ${NEW} tokens; ${IDLE} idle streams`);
  console.log("| | decode t/s (16 active) | server RSS (MiB) |");
  console.log("| --- | ---: | ---: |");
  console.log(`| without idle streams | ${alone.rate.toFixed(1)} | ${(rssBefore / 1024).toFixed(1)} |`);
  console.log(`| with ${queued} idle streams queued | ${withIdle.rate.toFixed(1)} | ` +
    `${(rss / 1024).toFixed(1)} |`);
  console.log(`per idle stream: ${((rss - rssBefore) / queued).toFixed(1)} KiB; decode speed ` +
    `${(100 * withIdle.rate / alone.rate).toFixed(0)}% of the run without them`);
  for (let i = 0; i < 400 && (await metric(server.url, "tgi_queue_size")) > 0; ++i) await sleep(25);
  const free = await metric(server.url, "streamgen_kv_blocks_free");
  const total = await metric(server.url, "streamgen_kv_blocks_total");
  console.log(`after closing them: queue ${await metric(server.url, "tgi_queue_size")}, ` +
    `KV blocks free ${free} of ${total}`);
} finally {
  await server.stop();
}
