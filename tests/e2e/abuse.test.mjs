// Bad input, overload and vanished clients: each gets TGI's answer and the server keeps serving.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startServer, postJson, readSse, scrapeMetrics } from "./server.mjs";

const servers = [];
after(async () => { for (const s of servers) await s.stop(); });
async function serve(args) {
  const s = await startServer(args);
  servers.push(s);
  return s;
}

// Sends raw bytes, returns everything the server answers until it closes (or timeout ms).
function rawExchange(port, bytes, timeout = 5000) {
  return new Promise((resolve) => {
    const chunks = [];
    const sock = net.connect(port, "127.0.0.1", () => sock.end(bytes));
    sock.on("data", (d) => chunks.push(d));
    const done = () => resolve(Buffer.concat(chunks).toString("latin1"));
    sock.on("close", done);
    sock.on("error", done);
    setTimeout(() => sock.destroy(), timeout);
  });
}

test("bad bodies get TGI's statuses and messages, and the server keeps serving", async () => {
  const s = await serve([]);
  const u = `${s.url}/generate`;
  const cases = [
    [{ inputs: "" , parameters: {} }, 422, "Input validation error: `inputs` cannot be empty"],
    [{ inputs: "hi", parameters: { temperature: 0 } }, 422, "Input validation error: `temperature` must be strictly positive"],
    [{ inputs: "hi", parameters: { top_p: 1.0 } }, 422, "Input validation error: `top_p` must be > 0.0 and < 1.0"],
    [{ inputs: "hi", parameters: { top_k: 0 } }, 422, "Input validation error: `top_k` must be strictly positive"],
    [{ inputs: "hi", parameters: { max_new_tokens: 0 } }, 422, "Input validation error: `max_new_tokens` must be strictly positive"],
    [{ inputs: "hi", parameters: { stop: ["a", "b", "c", "d", "e"] } }, 422, "Input validation error: `stop` supports up to 4 stop sequences. Given: 5"],
    [{ inputs: "hi", parameters: { repetition_penalty: -1 } }, 422, "Input validation error: `repetition_penalty` must be strictly positive"],
    [{ inputs: "hi", parameters: { frequency_penalty: 3 } }, 422, "Input validation error: `frequency_penalty` must be >= -2.0 and <= 2.0"],
    [{ inputs: "hi", parameters: { top_n_tokens: 6 } }, 422, "Input validation error: `top_n_tokens` must be >= 0 and <= 5. Given: 6"],
    [{ inputs: "hi", parameters: { best_of: 2 } }, 422, "Input validation error: you must use sampling when `best_of` is > 1"],
  ];
  for (const [body, status, message] of cases) {
    const r = await postJson(u, body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.deepEqual(r.json, { error: message, error_type: "validation" });
  }
  const shape = [
    ['{"inputs": "hi", "parameters": {"details": null}}', 422],
    ['{"inputs": "hi", "parameters": {"stop": "x"}}', 422],
    ['{"inputs": "hi", "parameters": {"max_new_tokens": -1}}', 422],
    ['{"inputs": "hi", "parameters": {"max_new_tokens": 1e300}}', 422],
    ['{"inputs": 5}', 422],
    ['{"parameters": {}}', 422],
    ['{"inputs": "hi", "parameters": {"temperature": NaN}}', 400],
    ['{"inputs": "hi"', 400],
    // serde reads a top-level array as the struct's fields in order: the first element must be
    // the `inputs` string, so this is a type error (422) before the missing brackets are seen.
    ['[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[', 422],
    ['["hi", {"max_new_tokens": 2}]', 200],
  ];
  for (const [body, status] of shape) {
    const r = await postJson(u, body);
    assert.equal(r.status, status, body);
  }
  const bomb = "[".repeat(200000);
  assert.ok([400, 422].includes((await postJson(u, bomb)).status));
  // Invalid UTF-8 inside the JSON string: a parse error (400), as serde_json.
  const invalid = Buffer.concat([Buffer.from('{"inputs":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  const inv = await fetch(u, { method: "POST", headers: { "content-type": "application/json" }, body: invalid });
  assert.equal(inv.status, 400);
  // Too large: 413 with axum's text.
  const big = await postJson(u, { inputs: "x".repeat(2_100_000) });
  assert.equal(big.status, 413);
  assert.equal(big.text, "Failed to buffer the request body: length limit exceeded");
  // Wrong content type, unknown route, wrong method.
  const ct = await fetch(u, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
  assert.equal(ct.status, 415);
  assert.equal((await fetch(`${s.url}/nope`)).status, 404);
  assert.equal((await fetch(`${s.url}/generate`)).status, 405);
  // Garbage on the socket.
  const garbage = await rawExchange(s.port, Buffer.from("\x00\x01GARBAGE / HTTP/9\r\n\r\n"));
  assert.match(garbage, /^HTTP\/1\.1 400/);
  // Streams report validation errors in-band with HTTP 200.
  const st = await readSse(`${s.url}/generate_stream`, { inputs: "", parameters: {} });
  assert.equal(st.status, 200);
  assert.deepEqual(st.events, [{ error: "Input validation error: `inputs` cannot be empty", error_type: "validation" }]);
  const bo = await readSse(`${s.url}/generate_stream`, { inputs: "hi", parameters: { best_of: 2, do_sample: true } });
  assert.deepEqual(bo.events, [{ error: "Input validation error: `best_of` != 1 is not supported when streaming tokens", error_type: "validation" }]);
  // Still serving.
  const ok = await postJson(u, { inputs: "ROMEO:", parameters: { max_new_tokens: 3 } });
  assert.equal(ok.status, 200);
});

test("overload: the request beyond --max-concurrent-requests is refused at once, as TGI does", async () => {
  const s = await serve(["--max-concurrent-requests", "2"]);
  const long = { inputs: "ROMEO:", parameters: { max_new_tokens: 200, do_sample: true, seed: 1 } };
  const ctrl = [new AbortController(), new AbortController()];
  // Two streams hold both permits; wait until each has produced a token.
  const holders = ctrl.map((c) => fetch(`${s.url}/generate_stream`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(long), signal: c.signal,
  }));
  const readers = [];
  for (const h of holders) {
    const r = await h;
    const reader = r.body.getReader();
    await reader.read();
    readers.push(reader);
  }
  const third = await readSse(`${s.url}/generate_stream`, { inputs: "hi", parameters: { max_new_tokens: 2 } });
  assert.equal(third.status, 200);
  assert.deepEqual(third.events, [{ error: "Model is overloaded", error_type: "overloaded" }]);
  const third2 = await postJson(`${s.url}/generate`, { inputs: "hi", parameters: { max_new_tokens: 2 } });
  assert.equal(third2.status, 429);
  assert.deepEqual(third2.json, { error: "Model is overloaded", error_type: "overloaded" });
  // Retry-After: whole seconds from the drain rate, at least 1 and at most 60.
  const retry = Number(third2.headers.get("retry-after"));
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `retry-after ${retry}`);
  const c429 = await postJson(`${s.url}/v1/completions`, { prompt: "hi", max_tokens: 2 });
  assert.equal(c429.status, 429);
  assert.ok(Number(c429.headers.get("retry-after")) >= 1);
  const info = await (await fetch(`${s.url}/info`)).json();
  assert.equal(info.load.requests_in_flight, 2);
  assert.equal(info.load.retry_after, retry);
  // The clients vanish: a new request is admitted within one second.
  for (const c of ctrl) c.abort();
  const t0 = Date.now();
  for (;;) {
    const r = await postJson(`${s.url}/generate`, { inputs: "hi", parameters: { max_new_tokens: 1 } });
    if (r.status === 200) break;
    assert.equal(r.status, 429);
    assert.ok(Date.now() - t0 < 1000, "admitted within one second after the disconnects");
    await new Promise((res) => setTimeout(res, 20));
  }
  const m = await scrapeMetrics(s.url);
  assert.ok(m['tgi_request_failure{err="overloaded"}'] >= 2);
});

test("events arrive one by one while generation runs (raw socket)", async () => {
  const s = await serve([]);
  const body = JSON.stringify({ inputs: "ROMEO:", parameters: { max_new_tokens: 200 } });
  const req = `POST /generate_stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const arrivals = [];
  let buffer = "";
  let sent = 0;
  let firstReadEvents = 0;
  await new Promise((resolve, reject) => {
    const sock = net.connect(s.port, "127.0.0.1", () => { sent = performance.now(); sock.write(req); });
    sock.on("data", (d) => {
      const now = performance.now();
      buffer += d.toString("utf8");
      const count = (buffer.match(/data: /g) || []).length;
      if (arrivals.length === 0 && count > 0) firstReadEvents = count;
      while (arrivals.length < count) arrivals.push(now);
      if (buffer.includes('"generated_text":"') || buffer.includes("0\r\n\r\n")) sock.end();
    });
    sock.on("close", resolve);
    sock.on("error", reject);
  });
  assert.match(buffer, /^HTTP\/1\.1 200/);
  assert.match(buffer, /transfer-encoding: chunked/i);
  assert.equal(arrivals.length, 200);
  // The first event must come long before the last: within the first half of the time the whole
  // stream took (buffered output would deliver them together at the end).
  const first = arrivals[0] - sent;
  const last = arrivals.at(-1) - sent;
  assert.ok(first < last / 2, `first event after ${first} ms, last after ${last} ms`);
  // Node coalesces reads when the events come faster than its loop turns (the demo model makes 200
  // tokens in about 100 ms; a clean-clone CI run once saw 18 reads), so the bar is what buffering
  // could never give: several reads, and a first read that does not already hold the last event.
  const distinct = new Set(arrivals).size;
  assert.ok(distinct > 5, `events arrived in ${distinct} separate reads`);
  assert.ok(firstReadEvents < 200, `the first read held all ${firstReadEvents} events`);
});
