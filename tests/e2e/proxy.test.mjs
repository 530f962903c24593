// Three `streamgen serve` replicas behind Debian's nginx, configured by the shipped
// deploy/nginx/streamgen.conf (only the replica ports, the listen port and the access-log path are
// substituted; a minimal nginx.conf around it keeps pid, logs and temp files in a temp folder):
//  (a) real streaming clients through the proxy (@huggingface/inference 4.x and 2.x, openai,
//      curl -N) get the same text as from a replica directly, and events arrive spread out in time
//      (not buffered into one burst);
//  (b) a replica at --max-concurrent-requests answers 429 and nginx retries the POST on another;
//  (c) 12 streams under load, one replica SIGKILLed mid-stream: the streams on the others finish
//      with the right text, the ones on the killed replica end with an error at once, nothing
//      hangs, and every request after the kill succeeds on the survivors;
//  (d) a replica SIGTERMed mid-stream (a rolling restart): its streams drain to the end and new
//      requests go to the others.
// Skipped, with a message, when nginx is not installed (scripts/setup.sh installs nginx-light).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import OpenAI from "openai";
import { InferenceClient } from "@huggingface/inference";
import { HfInferenceEndpoint } from "hf-inference-v2";
import {
  binary, startServer, freePort, postJson, parseSse, scrapeMetrics, sleep, repoRoot, SLOW,
} from "./server.mjs";

const run = promisify(execFile);
const SHIPPED_CONF = path.join(repoRoot, "deploy", "nginx", "streamgen.conf");
const NGINX = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"]
  .find((p) => fs.existsSync(p));
const opts = {
  skip: NGINX ? false : "nginx is not installed (scripts/setup.sh installs nginx-light): skipped",
};
assert.ok(fs.existsSync(binary), `${binary} is not built`);

// ---------------------------------------------------------------------------------------------
// The cluster: three replicas (one compute thread each: three share the CI machine's cores) and
// nginx in the foreground, as an unprivileged-style instance in a temp prefix.

async function startReplicas(extraArgs) {
  const started = await Promise.allSettled(
    [0, 1, 2].map(() => startServer(["--threads", "1", ...extraArgs])));
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await Promise.all(started.filter((s) => s.status === "fulfilled").map((s) => s.value.stop("SIGKILL")));
    throw failed.reason;
  }
  return started.map((s) => s.value);
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

async function startNginx(replicaPorts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sg-nginx-"));
  // As root, nginx's workers run as `nobody`: they must be able to enter the prefix.
  if (process.getuid?.() === 0) fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const accessLog = path.join(dir, "access.log");
  const shipped = fs.readFileSync(SHIPPED_CONF, "utf8");
  let replaced = 0;
  let conf = shipped.replace(/(\bserver\s+)127\.0\.0\.1:300([123])\b/g, (_, s, i) => {
    replaced++;
    return `${s}127.0.0.1:${replicaPorts[Number(i) - 1]}`;
  });
  assert.equal(replaced, 3, "deploy/nginx/streamgen.conf lists replicas 127.0.0.1:3001..3003");
  const subst = (from, to) => {
    assert.ok(conf.includes(from), `deploy/nginx/streamgen.conf contains "${from}"`);
    conf = conf.replace(from, to);
  };
  subst("listen 8080;", `listen 127.0.0.1:${port};`);
  subst("/var/log/nginx/streamgen-access.log", accessLog);
  fs.writeFileSync(path.join(dir, "streamgen.conf"), conf);
  fs.writeFileSync(path.join(dir, "nginx.conf"), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 1024; }
http {
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/streamgen.conf;
}
`);
  const proc = spawn(NGINX, ["-p", `${dir}/`, "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"],
    { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (d) => { log += d; });
  proc.stderr.on("data", (d) => { log += d; });
  let exited = null;
  const exit = new Promise((resolve) => proc.on("exit", (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));
  const errorLog = () => {
    try { return fs.readFileSync(path.join(dir, "error.log"), "utf8"); } catch { return ""; }
  };
  const deadline = Date.now() + 10000;
  while (!(await portOpen(port))) {
    if (exited || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`nginx did not start (${JSON.stringify(exited)}):\n${log}\n${errorLog()}`);
    }
    await sleep(20);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    errorLog,
    // Access-log lines (deploy/nginx/streamgen.conf's streamgen_upstream format) by request id.
    entries() {
      const out = new Map();
      let text = "";
      try { text = fs.readFileSync(accessLog, "utf8"); } catch { /* nothing logged yet */ }
      for (const line of text.split("\n")) {
        const m = /"(\S+) (\S+) [^"]*" (\d+) .* upstream=(.*) status=(.*) urt=.* rid=(\S*)$/.exec(line);
        if (!m) continue;
        out.set(m[6], {
          method: m[1], uri: m[2], status: Number(m[3]),
          upstreams: m[4].split(", "), statuses: m[5].split(", ").map(Number), line,
        });
      }
      return out;
    },
    async stop() {
      if (!exited) proc.kill("SIGQUIT");  // graceful shutdown
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exit;
      clearTimeout(t);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function withCluster(replicaArgs, body) {
  const replicas = await startReplicas(replicaArgs);
  let proxy;
  try {
    proxy = await startNginx(replicas.map((r) => r.port));
    await body(replicas, proxy);
  } finally {
    if (proxy) await proxy.stop();
    await Promise.all(replicas.map((r) => r.stop("SIGKILL")));
  }
}

// ---------------------------------------------------------------------------------------------
// A streaming request read as it arrives: the parsed events, when each network read came (ms since
// the request), and how it ended (`complete`: a clean end after TGI's final event; `error`: the
// connection failed). `promise` settles when the stream has ended either way; it never rejects.
function openStream(url, body, headers = {}) {
  const st = { status: 0, events: [], reads: [], error: null, clean: false, settledAt: 0, t0: 0 };
  st.t0 = performance.now();
  st.promise = (async () => {
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      st.status = r.status;
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        st.reads.push(performance.now() - st.t0);
        buf += decoder.decode(value, { stream: true });
        for (let i; (i = buf.indexOf("\n\n")) >= 0;) {
          st.events.push(...parseSse(buf.slice(0, i + 2)));
          buf = buf.slice(i + 2);
        }
      }
      st.clean = true;
    } catch (e) {
      st.error = e;
    }
    st.settledAt = performance.now();
  })();
  // The generated text as /generate reports it: special tokens (a sampled <s>) are skipped there
  // (skip_special_tokens, TGI §3.6) while each stream event carries its token's text.
  st.text = () => st.events.map((e) => (e.token && !e.token.special ? e.token.text : "")).join("");
  st.complete = () => st.clean && !st.error && st.events.length > 0 &&
    st.events.every((e) => !e.error) && typeof st.events.at(-1).generated_text === "string";
  return st;
}

// Waits for every promise, failing (with `what` and the pending count) if any is still pending
// after `ms`: nothing may hang.
async function settleWithin(ms, promises, what) {
  let pending = promises.length;
  const tracked = promises.map((p) => p.finally(() => { pending--; }));
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${pending} of ${promises.length} ${what} still ` +
      `pending after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.all(tracked), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntil(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const PROMPT = "ROMEO:\n";

// ---------------------------------------------------------------------------------------------

test("(a) streaming clients through nginx get the replicas' streams, token by token", opts, async () => {
  await withCluster(["--max-concurrent-requests", "8"], async (replicas, proxy) => {
    const direct = replicas[0].url;

    // Raw SSE: a long greedy stream through the proxy equals the direct /generate text, and its
    // events come in many reads spread over the generation, not in one burst at the end.
    const N = 1200;
    const ref = await postJson(`${direct}/generate`, { inputs: PROMPT, parameters: { max_new_tokens: N } });
    assert.equal(ref.status, 200);
    const s = openStream(`${proxy.url}/generate_stream`,
      { inputs: PROMPT, parameters: { max_new_tokens: N } }, { "x-request-id": "a-raw" });
    await s.promise;
    assert.equal(s.status, 200);
    assert.ok(s.complete(), `stream complete (error: ${s.error})`);
    assert.equal(s.events.length, N);
    assert.equal(s.text(), ref.json.generated_text);
    assert.equal(s.events.at(-1).generated_text, ref.json.generated_text);
    const first = s.reads[0];
    const last = s.reads.at(-1);
    // Measured here: 580-1200 reads unbuffered; 10 bursts, the first after 99 % of the stream's
    // time, when nginx buffers and gzips the stream (proxy_buffering on, X-Accel-Buffering ignored).
    assert.ok(s.reads.length >= N / 20, `events arrived in ${s.reads.length} reads (buffered?)`);
    assert.ok(last - first >= 0.5 * last,
      `first bytes at ${first.toFixed(1)} ms, last at ${last.toFixed(1)} ms: the stream must not ` +
      "arrive in one burst at the end");

    // @huggingface/inference 4.x: textGenerationStream calls /v1/completions.
    const client = new InferenceClient().endpoint(proxy.url);
    const g = await postJson(`${direct}/generate`, { inputs: PROMPT, parameters: { max_new_tokens: 40 } });
    let streamed = "";
    let chunks = 0;
    for await (const chunk of client.textGenerationStream(
      { inputs: PROMPT, parameters: { max_new_tokens: 40, temperature: 0 } })) {
      chunks++;
      streamed += chunk.choices[0].text;
    }
    assert.equal(chunks, 40);
    assert.equal(streamed, g.json.generated_text);

    // @huggingface/inference 2.x: TGI's POST / with "stream": true.
    const hf = new HfInferenceEndpoint(proxy.url);
    const tokens = [];
    let final = null;
    for await (const ev of hf.textGenerationStream(
      { model: "tgi", inputs: PROMPT, parameters: { max_new_tokens: 40, return_full_text: false } })) {
      tokens.push(ev.token.text);
      if (ev.generated_text !== null) final = ev.generated_text;
    }
    assert.equal(tokens.length, 40);
    assert.equal(tokens.join(""), g.json.generated_text);
    assert.equal(final, g.json.generated_text);

    // openai: a streamed chat completion equals the non-streamed one from a replica.
    const messages = [{ role: "user", content: "ROMEO:" }];
    const whole = await new OpenAI({ baseURL: `${direct}/v1`, apiKey: "unused", maxRetries: 0 })
      .chat.completions.create({ model: "tgi", messages, max_tokens: 30, temperature: 0 });
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await openai.chat.completions.create(
      { model: "tgi", messages, max_tokens: 30, temperature: 0, stream: true });
    let content = "";
    let finish = null;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(content, whole.choices[0].message.content);
    assert.equal(finish, "length");

    // curl -N.
    const { stdout } = await run("curl", ["-sSN", `${proxy.url}/generate_stream`, "-X", "POST",
      "-H", "Content-Type: application/json",
      "-d", JSON.stringify({ inputs: PROMPT, parameters: { max_new_tokens: 40 } })]);
    const events = parseSse(stdout);
    assert.equal(events.length, 40);
    assert.equal(events.at(-1).generated_text, g.json.generated_text);

    // The proxy passed every request to a replica at the first try.
    await sleep(50);
    const raw = proxy.entries().get("a-raw");
    assert.ok(raw, "the raw stream is in the access log");
    assert.deepEqual(raw.statuses, [200]);
  });
});

test("(b) a 429 from a full replica is retried by nginx on another replica", opts, async (t) => {
  await withCluster(["--max-concurrent-requests", "1"], async (replicas, proxy) => {
    const [r0, r1, r2] = replicas;
    const small = { inputs: PROMPT, parameters: { max_new_tokens: 8 } };
    const ref = await postJson(`${r2.url}/generate`, small);
    assert.equal(ref.status, 200);
    // Replicas 0 and 1 each hold their one permit with a long stream, opened directly (nginx
    // does not count these connections, so its least_conn still sends requests there).
    const holds = [r0, r1].map((r) => openStream(`${r.url}/generate_stream`,
      { inputs: PROMPT, parameters: { max_new_tokens: 2000, do_sample: true, seed: 5 } }));
    await waitUntil(() => holds.every((h) => h.events.length > 0), 10000 * SLOW, "the holding streams");
    const full = await postJson(`${r0.url}/generate`, small);
    assert.equal(full.status, 429, "replica 0 is full");
    assert.deepEqual(full.json, { error: "Model is overloaded", error_type: "overloaded" });

    // Non-streamed POSTs through nginx (the generation routes it can retry): every one succeeds.
    const requests = [
      ["/generate", small, (j) => j.generated_text],
      ["/", { ...small, stream: false }, (j) => j[0].generated_text.slice(PROMPT.length)],
      ["/generate", small, (j) => j.generated_text],
      ["/", { ...small, stream: false }, (j) => j[0].generated_text.slice(PROMPT.length)],
      ["/generate", small, (j) => j.generated_text],
      ["/generate", small, (j) => j.generated_text],
    ];
    for (const [i, [route, body, text]] of requests.entries()) {
      const r = await postJson(`${proxy.url}${route}`, body, { "x-request-id": `b${i}` });
      assert.equal(r.status, 200, `request ${i} (${route}): ${r.text}`);
      assert.equal(text(r.json), ref.json.generated_text);
    }
    assert.ok(holds.every((h) => h.settledAt === 0), "the holding streams ran throughout");

    await sleep(50);
    const log = proxy.entries();
    const busy = [r0.port, r1.port].map((p) => `127.0.0.1:${p}`);
    let retried = 0;
    for (let i = 0; i < requests.length; i++) {
      const e = log.get(`b${i}`);
      assert.ok(e, `request b${i} is in the access log`);
      assert.equal(e.status, 200);
      assert.equal(e.statuses.at(-1), 200, e.line);
      assert.equal(e.upstreams.at(-1), `127.0.0.1:${r2.port}`, `answered by the free replica: ${e.line}`);
      // Every earlier attempt was a full replica answering 429.
      for (let k = 0; k < e.statuses.length - 1; k++) {
        assert.equal(e.statuses[k], 429, e.line);
        assert.ok(busy.includes(e.upstreams[k]), e.line);
      }
      if (e.statuses.length > 1) retried++;
    }
    t.diagnostic(`${retried} of ${requests.length} requests met a 429 and were retried`);
    assert.ok(retried >= 1, "at least one request met a 429 and was retried");
    // The full replicas counted the refusals the proxy retried.
    let overloaded = 0;
    for (const r of [r0, r1]) overloaded += (await scrapeMetrics(r.url))['tgi_request_failure{err="overloaded"}'] ?? 0;
    assert.ok(overloaded >= retried + 1, `overloaded refusals: ${overloaded}`);
  });
});

test("(c) SIGKILL of one replica under 12 streams: the others finish, its streams fail at once, " +
  "new requests succeed", opts, async (t) => {
  await withCluster(["--max-concurrent-requests", "8"], async (replicas, proxy) => {
    const CLIENTS = 12;
    const params = (i) => ({ max_new_tokens: 1500, do_sample: true, temperature: 0.8, seed: 100 + i });
    const streams = [];
    for (let i = 0; i < CLIENTS; i++) {
      streams.push(openStream(`${proxy.url}/generate_stream`,
        { inputs: PROMPT, parameters: params(i) }, { "x-request-id": `c${i}` }));
    }
    // Every stream has started: least_conn spread them over the three replicas.
    await waitUntil(() => streams.every((s) => s.events.length >= 5 || s.settledAt), 15000 * SLOW,
      "every stream's first events");
    assert.ok(streams.every((s) => !s.settledAt), "no stream ended before the kill");
    const inFlight = [];
    for (const r of replicas) inFlight.push((await scrapeMetrics(r.url)).streamgen_requests_in_flight);
    assert.deepEqual(inFlight, [4, 4, 4], "least_conn spreads 12 streams evenly");
    const victim = replicas[1];
    const killedAt = performance.now();
    victim.proc.kill("SIGKILL");

    // Nothing hangs: every stream settles within a bound.
    await settleWithin(30000 * SLOW, streams.map((s) => s.promise), "streams");
    await sleep(50);
    const log = proxy.entries();
    const victimAddr = `127.0.0.1:${victim.port}`;
    const onVictim = [];
    const survived = [];
    for (let i = 0; i < CLIENTS; i++) {
      const e = log.get(`c${i}`);
      assert.ok(e, `stream c${i} is in the access log`);
      assert.equal(e.upstreams.length, 1, e.line);
      (e.upstreams[0] === victimAddr ? onVictim : survived).push(i);
    }
    assert.equal(onVictim.length, 4, `streams on the killed replica: ${onVictim}`);
    t.diagnostic(`streams on the killed replica failed ${onVictim.map((i) =>
      (streams[i].settledAt - killedAt).toFixed(0)).join(", ")} ms after the SIGKILL`);
    for (const i of onVictim) {
      const s = streams[i];
      assert.ok(!s.complete(), `stream ${i} on the killed replica cannot be complete`);
      assert.ok(s.error, `stream ${i} on the killed replica ends with an error`);
      const after = s.settledAt - killedAt;
      assert.ok(after < 2000 * SLOW, `stream ${i} failed ${after.toFixed(0)} ms after the kill`);
    }
    // The survivors' streams end normally with the text a replica gives directly (seeded sampling
    // is reproducible whatever else is in the batch).
    const refs = await Promise.all(survived.map((i) => postJson(
      `${replicas[i % 2 === 0 ? 0 : 2].url}/generate`, { inputs: PROMPT, parameters: params(i) })));
    for (const [k, i] of survived.entries()) {
      const s = streams[i];
      assert.ok(s.complete(), `stream ${i} on a surviving replica completes (error: ${s.error})`);
      assert.equal(refs[k].status, 200);
      assert.equal(s.events.at(-1).generated_text, refs[k].json.generated_text, `stream ${i}'s text`);
      assert.equal(s.text(), refs[k].json.generated_text, `stream ${i}'s tokens`);
    }

    // New requests after the kill: all succeed, on the survivors (nginx retries the refused
    // connections to the dead replica, then benches it).
    const after = [];
    for (let i = 0; i < 12; i++) {
      after.push(i % 2
        ? postJson(`${proxy.url}/generate`, { inputs: PROMPT, parameters: { max_new_tokens: 16 } },
          { "x-request-id": `n${i}` })
        : openStream(`${proxy.url}/generate_stream`, { inputs: PROMPT, parameters: { max_new_tokens: 16 } },
          { "x-request-id": `n${i}` }));
    }
    await settleWithin(15000 * SLOW, after.map((a) => a.promise ?? a), "requests after the kill");
    const results = await Promise.all(after.map((a) => a.promise ? a.promise.then(() => a) : a));
    await sleep(50);
    const log2 = proxy.entries();
    results.forEach((r, i) => {
      if (i % 2) assert.equal(r.status, 200, `request n${i}: ${r.text}`);
      else assert.ok(r.complete(), `stream n${i} completes (error: ${r.error})`);
      const e = log2.get(`n${i}`);
      assert.equal(e.status, 200, e.line);
      assert.notEqual(e.upstreams.at(-1), victimAddr, e.line);
    });
  });
});

test("(d) SIGTERM of one replica mid-stream (rolling restart): its streams drain, new requests " +
  "go to the others", opts, async () => {
  await withCluster(["--max-concurrent-requests", "8", "--graceful-termination-timeout", "30"],
    async (replicas, proxy) => {
      const streams = [];
      for (let i = 0; i < 6; i++) {
        streams.push(openStream(`${proxy.url}/generate_stream`,
          { inputs: PROMPT, parameters: { max_new_tokens: 1000, do_sample: true, seed: 200 + i } },
          { "x-request-id": `d${i}` }));
      }
      await waitUntil(() => streams.every((s) => s.events.length >= 5 || s.settledAt), 15000 * SLOW,
        "every stream's first events");
      const victim = replicas[0];
      const victimAddr = `127.0.0.1:${victim.port}`;
      const stopped = victim.stop("SIGTERM");
      // Its listener closes first (the signal is handled asynchronously: wait for that) ...
      const deadline = Date.now() + 5000 * SLOW;
      while (await portOpen(victim.port)) {
        assert.ok(Date.now() < deadline, "the draining replica closes its listener");
        await sleep(5);
      }
      // ... and while it drains, new requests are answered by the others.
      const during = [];
      for (let i = 0; i < 6; i++) {
        during.push(await postJson(`${proxy.url}/generate`,
          { inputs: PROMPT, parameters: { max_new_tokens: 8 } }, { "x-request-id": `e${i}` }));
      }
      await settleWithin(30000 * SLOW, streams.map((s) => s.promise), "streams");
      const exit = await stopped;
      assert.equal(exit.code, 0, victim.log());
      streams.forEach((s, i) => assert.ok(s.complete(), `stream d${i} completes (error: ${s.error})`));
      during.forEach((r, i) => assert.equal(r.status, 200, `request e${i}: ${r.text}`));
      await sleep(50);
      const log = proxy.entries();
      assert.ok(streams.some((_, i) => log.get(`d${i}`).upstreams[0] === victimAddr),
        "some streams ran on the drained replica");
      for (let i = 0; i < 6; i++) {
        assert.notEqual(log.get(`e${i}`).upstreams.at(-1), victimAddr, log.get(`e${i}`).line);
      }
    });
});
