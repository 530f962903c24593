// Resumable streams (`serve --resumable-streams SECONDS`): connections cut at random byte offsets
// and resumed with Last-Event-ID give back exactly the uninterrupted greedy text, through the npm
// `eventsource` client (behind a cutting TCP proxy) and through raw sockets; a newer reconnect
// cuts the older one; clients that never come back cost nothing after the window (gauges back to
// 0, KV blocks free); and without the flag the stream is TGI's, cancelled on disconnect.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { EventSource } from "eventsource";
import { postJson, readSse, scrapeMetrics, sleep, startServer, SLOW } from "./server.mjs";

const WINDOW_S = 2;
let server;   // --resumable-streams 2
let plain;    // no flag

before(async () => {
  server = await startServer(["--resumable-streams", String(WINDOW_S)]);
  plain = await startServer([]);
});
after(async () => {
  await server?.stop();
  await plain?.stop();
});

// A seeded generator, so a failure can be replayed (the seed is in the message).
function rngFrom(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTES = [
  { path: "/generate_stream", body: (n) => ({ inputs: "To be, or not", parameters: { do_sample: false, max_new_tokens: n } }) },
  { path: "/", body: (n) => ({ inputs: "Friends, Romans", stream: true, parameters: { do_sample: false, max_new_tokens: n } }) },
  { path: "/v1/completions", body: (n) => ({ model: "tgi", prompt: "Now is the winter", max_tokens: n, temperature: 0, stream: true }) },
  { path: "/v1/chat/completions", body: (n) => ({ model: "tgi", messages: [{ role: "user", content: "Speak, love" }], max_tokens: n, temperature: 0, stream: true }) },
];

// The text a stream's payloads carry, and whether its last payload is the end.
function textOf(path, payloads) {
  let text = "";
  let done = false;
  for (const p of payloads) {
    if (p === "[DONE]") { done = true; continue; }
    const j = JSON.parse(p);
    assert.equal(j.error, undefined, `error event: ${p}`);
    if (path.startsWith("/v1/chat")) text += j.choices[0]?.delta?.content ?? "";
    else if (path.startsWith("/v1/")) text += j.choices[0]?.text ?? "";
    else {
      text += j.token.text;
      if (j.generated_text !== null) done = true;
    }
  }
  return { text, done };
}

// One request on a raw socket, cut (destroyed) once `cutAt` bytes of the response arrived.
// Resolves with what arrived (latin1, at most cutAt bytes) and whether it was cut.
function rawRequest(port, path, body, { lastEventId, cutAt = Infinity, onData } = {}) {
  const payload = Buffer.from(JSON.stringify(body), "utf8");
  const head = `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
    `content-length: ${payload.length}\r\n${lastEventId ? `last-event-id: ${lastEventId}\r\n` : ""}` +
    "connection: close\r\n\r\n";
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let raw = "";
    let settled = false;
    const done = (cut) => { if (!settled) { settled = true; resolve({ raw, cut, sock }); } };
    sock.on("connect", () => sock.write(Buffer.concat([Buffer.from(head, "latin1"), payload])));
    sock.on("data", (d) => {
      if (settled) return;
      raw += d.toString("latin1");
      if (raw.length >= cutAt) {
        raw = raw.slice(0, cutAt);
        sock.destroy();
        done(true);
        return;
      }
      onData?.(raw, sock);
    });
    sock.on("error", () => done(false));
    sock.on("close", () => done(false));
  });
}

// Parses a possibly truncated SSE response: the head, the body bytes that arrived (chunked framing
// removed; a cut chunk gives what it has), whether the final chunk arrived, and the complete
// events (a block ended by a blank line), each {id, retry, data} with data decoded as UTF-8.
function parseSseResponse(raw) {
  const headEnd = raw.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const lines = raw.slice(0, headEnd).split("\r\n");
  const status = Number(lines[0].split(" ")[1]);
  const headers = Object.fromEntries(lines.slice(1).map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
  }));
  let pos = headEnd + 4;
  let body = "";
  let complete = false;
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
    for (;;) {
      const le = raw.indexOf("\r\n", pos);
      if (le < 0) break;
      const size = parseInt(raw.slice(pos, le), 16);
      assert.ok(Number.isFinite(size), `bad chunk size line at ${pos}`);
      pos = le + 2;
      if (size === 0) { complete = raw.slice(pos, pos + 2) === "\r\n"; break; }
      body += raw.slice(pos, Math.min(raw.length, pos + size));
      if (raw.length < pos + size + 2) break;
      assert.equal(raw.slice(pos + size, pos + size + 2), "\r\n");
      pos += size + 2;
    }
  } else {
    body = raw.slice(pos);
    complete = true;
  }
  const blocks = body.split("\n\n");
  blocks.pop();  // after the last blank line: an incomplete event, or ""
  const events = [];
  for (const block of blocks) {
    const ev = { id: null, retry: null, data: null, comment: false };
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) { ev.comment = true; continue; }
      const i = line.indexOf(": ");
      const [k, v] = [line.slice(0, i), line.slice(i + 2)];
      if (k === "id") ev.id = v;
      else if (k === "retry") ev.retry = Number(v);
      else if (k === "data") ev.data = Buffer.from(v, "latin1").toString("utf8");
      else assert.fail(`unexpected field line ${JSON.stringify(line)}`);
    }
    if (!ev.comment || ev.data !== null) events.push(ev);
  }
  return { status, headers, complete, events };
}

// The uncut stream of `route`: its payloads and raw length.
async function reference(route, n) {
  const r = await rawRequest(server.port, route.path, route.body(n));
  const p = parseSseResponse(r.raw);
  assert.equal(p.status, 200);
  assert.ok(p.complete);
  const payloads = p.events.map((e) => e.data);
  const t = textOf(route.path, payloads);
  assert.ok(t.done, `${route.path}: the uncut stream has no end`);
  return { text: t.text, bytes: r.raw.length };
}

// Runs one stream, cutting each connection at a random offset below `maxCut` and resuming with
// Last-Event-ID, until it ended. Checks the ids on the way; returns the payloads and the cuts.
async function cutAndResume(route, n, rng, maxCut, label) {
  let streamId = null;
  let last = 0;
  let cuts = 0;
  const payloads = [];
  for (let attempt = 0; attempt < 200; ++attempt) {
    const cutAt = rng() < 0.1 ? Infinity : Math.floor(rng() * maxCut);
    const r = await rawRequest(server.port, route.path, route.body(n),
      { lastEventId: streamId ? `${streamId}-${last}` : null, cutAt });
    if (r.cut) ++cuts;
    const p = parseSseResponse(r.raw);
    if (!p) continue;  // cut inside the head: a fresh request, or the same resume again
    if (p.status === 204) {  // finished, and every event was already here
      assert.ok(streamId, `${label}: 204 without a stream`);
      return { payloads, cuts };
    }
    assert.equal(p.status, 200, `${label}: ${r.raw.slice(0, 300)}`);
    const sid = p.headers["x-stream-id"];
    assert.match(sid, /^[0-9a-f]{32}$/, label);
    if (streamId === null) streamId = sid;
    assert.equal(sid, streamId, `${label}: the resumed response names another stream`);
    p.events.forEach((ev, k) => {
      assert.ok(ev.id?.startsWith(`${streamId}-`), `${label}: event without our id: ${JSON.stringify(ev)}`);
      const seq = Number(ev.id.slice(33));
      assert.equal(seq, last + 1, `${label}: ids not consecutive (${last} then ${seq})`);
      assert.equal(ev.retry !== null, k === 0, `${label}: retry only on a connection's first event`);
      last = seq;
      payloads.push(ev.data);
    });
    if (p.complete) return { payloads, cuts };
  }
  assert.fail(`${label}: no end after 200 connections`);
}

test("raw sockets: 200 random cuts across streams and routes reassemble the greedy text exactly",
  { timeout: 60000 * SLOW }, async () => {
    const seed = Number(process.env.RESUME_SEED ?? Date.now() % 100000);
    const rng = rngFrom(seed);
    const n = 48;
    const refs = [];
    for (const route of ROUTES) refs.push(await reference(route, n));
    // The uncut stream equals the non-streamed greedy text too.
    const g = await postJson(`${server.url}/generate`, { inputs: "To be, or not", parameters: { do_sample: false, max_new_tokens: n } });
    assert.equal(refs[0].text, g.json.generated_text);
    let cuts = 0;
    let streams = 0;
    while (cuts < 200) {
      const i = streams++ % ROUTES.length;
      const label = `seed ${seed}, stream ${streams}, ${ROUTES[i].path}`;
      const r = await cutAndResume(ROUTES[i], n, rng, refs[i].bytes, label);
      cuts += r.cuts;
      const t = textOf(ROUTES[i].path, r.payloads);
      assert.ok(t.done, `${label}: no final event`);
      assert.equal(t.text, refs[i].text, label);
    }
    const m = await scrapeMetrics(server.url);
    assert.ok(m.streamgen_resumable_streams_resumed >= 150, `resumed ${m.streamgen_resumable_streams_resumed}`);
  });

// A TCP proxy that forwards each connection's response only up to a random number of bytes, then
// drops both sides, for its first `maxCuts` connections.
async function cuttingProxy(targetPort, rng, maxCuts) {
  const stats = { cuts: 0, connections: 0 };
  const proxy = net.createServer((client) => {
    ++stats.connections;
    const upstream = net.connect(targetPort, "127.0.0.1");
    let budget = stats.cuts < maxCuts ? 300 + Math.floor(rng() * 2500) : Infinity;
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d) => {
      if (d.length < budget) {
        budget -= d.length;
        client.write(d);
        return;
      }
      client.write(d.subarray(0, budget));
      ++stats.cuts;
      client.destroy();
      upstream.destroy();
    });
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("end", () => client.end());
  });
  proxy.listen(0, "127.0.0.1");
  await new Promise((r) => proxy.once("listening", r));
  return { port: proxy.address().port, stats, close: () => proxy.close() };
}

for (const route of [ROUTES[0], ROUTES[3]]) {
  test(`npm eventsource resumes ${route.path} through a connection cut at random offsets`,
    { timeout: 30000 * SLOW }, async () => {
      const n = 160;
      const ref = await reference(route, n);
      const seed = Number(process.env.RESUME_SEED ?? Date.now() % 100000);
      const proxy = await cuttingProxy(server.port, rngFrom(seed), 4);
      const payloads = [];
      let errors = 0;
      try {
        await new Promise((resolve, reject) => {
          const es = new EventSource(`http://127.0.0.1:${proxy.port}${route.path}`, {
            // POST the same body on every (re)connection; eventsource adds Last-Event-ID.
            fetch: (url, init) => fetch(url, {
              ...init,
              method: "POST",
              headers: { ...init.headers, "content-type": "application/json" },
              body: JSON.stringify(route.body(n)),
            }),
          });
          es.onmessage = (e) => {
            payloads.push(e.data);
            if (textOf(route.path, payloads).done) {
              es.close();
              resolve();
            }
          };
          es.onerror = (e) => {
            ++errors;
            if (es.readyState === EventSource.CLOSED) reject(new Error(`eventsource gave up: ${e.message} (${e.code})`));
          };
        });
      } finally {
        proxy.close();
      }
      assert.ok(proxy.stats.cuts >= 1, "the proxy never cut the stream");
      assert.equal(errors, proxy.stats.cuts, "one reconnect per cut");
      assert.equal(textOf(route.path, payloads).text, ref.text, `seed ${seed}`);
    });
}

test("a newer reconnect cuts the older connection; the newest gets the rest", { timeout: 20000 * SLOW }, async () => {
  const route = ROUTES[0];
  const n = 1500;
  const ref = await reference(route, n);
  const seen = [];  // payloads in order, as a client would keep them
  // Reads `conn` until it has `k` complete events; returns the last id.
  const firstEvents = (k) => (raw, sock) => {
    const p = parseSseResponse(raw);
    if (p && p.events.length >= k && !sock.decided) { sock.decided = p.events.slice(0, k); sock.emit("decided"); }
  };
  const open = (lastEventId, k) => new Promise((resolve) => {
    let sockRef = null;
    const finished = rawRequest(server.port, route.path, route.body(n), {
      lastEventId,
      onData: (raw, sock) => {
        sockRef = sock;
        firstEvents(k)(raw, sock);
        if (sock.decided && !sock.resolved) { sock.resolved = true; resolve({ events: sock.decided, finished }); }
      },
    });
  });
  const a = await open(null, 3);
  const id = a.events[0].id.slice(0, 32);
  seen.push(...a.events.map((e) => e.data));
  const b = await open(a.events.at(-1).id, 2);  // a is still connected
  seen.push(...b.events.map((e) => e.data));
  const c = await open(b.events.at(-1).id, 1);  // b is still connected
  const cAll = parseSseResponse((await c.finished).raw);
  for (const [name, conn] of [["first", a], ["second", b]]) {
    const r = parseSseResponse((await conn.finished).raw);
    assert.equal(r.complete, false, `the ${name} connection ended cleanly instead of being cut`);
  }
  assert.ok(cAll.complete);
  let last = Number(b.events.at(-1).id.slice(33));
  for (const ev of cAll.events) {
    assert.equal(ev.id, `${id}-${++last}`);
    seen.push(ev.data);
  }
  assert.equal(textOf(route.path, seen).text, ref.text);
});

test("unknown, expired or malformed ids: TGI-style errors, no new generation", async () => {
  const before = await scrapeMetrics(server.url);
  const r404 = await postJson(`${server.url}/generate_stream`, ROUTES[0].body(4), { "last-event-id": `${"0".repeat(32)}-1` });
  assert.equal(r404.status, 404);
  assert.equal(r404.json.error_type, "stream_not_found");
  const r400 = await postJson(`${server.url}/v1/chat/completions`, ROUTES[3].body(4), { "last-event-id": "not-an-id" });
  assert.equal(r400.status, 400);
  assert.equal(r400.json.error_type, "invalid_last_event_id");
  // A finished stream: resumable within the window (from any point), then 404.
  const first = await rawRequest(server.port, "/v1/completions", ROUTES[2].body(4));
  const p = parseSseResponse(first.raw);
  const sid = p.headers["x-stream-id"];
  const again = await rawRequest(server.port, "/v1/completions", ROUTES[2].body(4), { lastEventId: `${sid}-0` });
  assert.deepEqual(parseSseResponse(again.raw).events.map((e) => e.data), p.events.map((e) => e.data));
  const done = await postJson(`${server.url}/v1/completions`, ROUTES[2].body(4), { "last-event-id": p.events.at(-1).id });
  assert.equal(done.status, 204);
  // Another route does not know this stream.
  const other = await postJson(`${server.url}/generate_stream`, ROUTES[0].body(4), { "last-event-id": `${sid}-0` });
  assert.equal(other.status, 404);
  const afterM = await scrapeMetrics(server.url);
  assert.equal(afterM.tgi_request_count, before.tgi_request_count + 1, "only the one real request counted");
  await sleep(WINDOW_S * 1000 + 1200);
  const expired = await postJson(`${server.url}/v1/completions`, ROUTES[2].body(4), { "last-event-id": `${sid}-0` });
  assert.equal(expired.status, 404);
});

// Polls /metrics until pred(metrics) holds; returns the last scrape.
async function waitMetrics(url, pred, ms) {
  const deadline = Date.now() + ms;
  let m;
  for (;;) {
    m = await scrapeMetrics(url);
    if (pred(m) || Date.now() > deadline) return m;
    await sleep(50);
  }
}

test("clients that never come back: cancelled after the window, buffers and KV freed", { timeout: 30000 * SLOW }, async () => {
  // One sequence per step, so most of these wait in the queue, detached, past the window.
  const s = await startServer(["--resumable-streams", "0.5", "--max-batch-size", "1"]);
  try {
    const before = await scrapeMetrics(s.url);
    const body = { inputs: "O Romeo, Romeo", parameters: { do_sample: false, max_new_tokens: 1900 } };
    const streams = 8;
    await Promise.all(Array.from({ length: streams }, () =>
      rawRequest(s.port, "/generate_stream", body, { onData: (raw, sock) => { if (raw.includes("\r\n\r\n")) sock.destroy(); } })));
    const during = await waitMetrics(s.url, (x) => x.streamgen_resumable_streams_detached >= 1, 2000 * SLOW);
    assert.ok(during.streamgen_resumable_streams_detached >= 1, JSON.stringify(during));
    assert.ok(during.streamgen_resumable_stream_bytes >= 0);
    const m = await waitMetrics(s.url, (x) => x.streamgen_resumable_streams === 0 &&
      x.streamgen_resumable_stream_bytes === 0 &&
      x.streamgen_kv_blocks_free === x.streamgen_kv_blocks_total && x.tgi_queue_size === 0, 8000 * SLOW);
    assert.equal(m.streamgen_resumable_streams, 0);
    assert.equal(m.streamgen_resumable_streams_detached, 0);
    assert.equal(m.streamgen_resumable_stream_bytes, 0);
    assert.equal(m.streamgen_kv_blocks_free, m.streamgen_kv_blocks_total);
    const expired = m.streamgen_resumable_streams_expired - (before.streamgen_resumable_streams_expired ?? 0);
    assert.ok(expired >= 1, `expired ${expired}`);
    // Each expiry cancelled its generation as a disconnect does.
    assert.ok((m['tgi_request_failure{err="dropped"}'] ?? 0) >= expired);
  } finally {
    await s.stop();
  }
});

test("without the flag: TGI framing (no id lines), Last-Event-ID ignored, a disconnect cancels", { timeout: 20000 * SLOW }, async () => {
  const r = await readSse(`${plain.url}/generate_stream`, ROUTES[0].body(8), { headers: { "last-event-id": `${"a".repeat(32)}-3` } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("x-stream-id"), null);
  assert.equal(r.events.length, 8);
  assert.doesNotMatch(r.text, /^(id|retry):/m);
  assert.match(r.text, /^data: \{"index":1,/);
  const chat = await readSse(`${plain.url}/v1/chat/completions`, ROUTES[3].body(4));
  assert.doesNotMatch(chat.text, /^(id|retry):/m);
  assert.equal(chat.events.at(-1), "[DONE]");
  const metrics = await scrapeMetrics(plain.url);
  assert.equal(metrics.streamgen_resumable_streams, undefined);
  // A disconnect cancels at once (TGI §2.5).
  const before = metrics['tgi_request_failure{err="dropped"}'] ?? 0;
  await rawRequest(plain.port, "/generate_stream", { inputs: "O Romeo", parameters: { do_sample: false, max_new_tokens: 1900 } },
    { onData: (raw, sock) => { if (raw.includes("data: ")) sock.destroy(); } });
  const m = await waitMetrics(plain.url, (x) => (x['tgi_request_failure{err="dropped"}'] ?? 0) > before, 3000 * SLOW);
  assert.equal(m['tgi_request_failure{err="dropped"}'], before + 1);
  const freed = await waitMetrics(plain.url, (x) => x.streamgen_kv_blocks_free === x.streamgen_kv_blocks_total, 3000 * SLOW);
  assert.equal(freed.streamgen_kv_blocks_free, freed.streamgen_kv_blocks_total);
});
