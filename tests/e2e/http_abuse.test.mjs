// Hostile HTTP on raw sockets: broken chunked trailers (the SIGABRT crash), request smuggling
// shapes (Transfer-Encoding / Content-Length), bad header bytes, bad request lines, slow clients,
// descriptor exhaustion and pipelining. Each case checks the exact answer bytes, that exactly one
// answer arrives (the bytes pipelined after a bad request are never served), and that the server
// is still alive and serving afterwards.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { startServer, sleep, SLOW, ASAN } from "./server.mjs";
import { RawConn } from "./raw_http.mjs";

// ---------------------------------------------------------------------------------------------
// Exact answers (the CORS header is always there).
const CORS = "access-control-allow-origin: *\r\n";
const E400 = `HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n${CORS}\r\n`;
const E400_BODY = "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n" +
  `content-length: 71\r\nconnection: close\r\n${CORS}\r\n` +
  "Failed to buffer the request body: error reading a body from connection";
const E408 = `HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n${CORS}\r\n`;
const E413 = "HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n" +
  `content-length: 56\r\nconnection: close\r\n${CORS}\r\n` +
  "Failed to buffer the request body: length limit exceeded";
const E431 = `HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n${CORS}\r\n`;
const E501 = `HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\nconnection: close\r\n${CORS}\r\n`;
const E505 = `HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-length: 0\r\nconnection: close\r\n${CORS}\r\n`;

// Pipelined after every bad request: must never be answered.
const TAIL = "GET /info HTTP/1.1\r\nHost: x\r\n\r\n";
const GEN_BODY = '{"inputs":"ROMEO:","parameters":{"max_new_tokens":2}}';
const HEALTH_KA = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
const HEALTH_CLOSE = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
const GEN_CLOSE = "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
  `Content-Length: ${GEN_BODY.length}\r\nConnection: close\r\n\r\n${GEN_BODY}`;

// ---------------------------------------------------------------------------------------------
// Raw-socket helpers.

// Sends bytes on a new connection and waits for the server to close it (or ms).
async function exchange(port, bytes, ms = 5000 * SLOW) {
  const c = new RawConn(port);
  await c.connected;
  c.write(bytes);
  await c.waitClosed(ms);
  c.destroy();
  return c;
}

// GET /health with `Connection: close` on a new connection; true when it is answered 200 within ms.
async function rawHealthy(port, ms) {
  const c = new RawConn(port);
  try {
    if (!(await c.connected)) return false;
    c.write(HEALTH_CLOSE);
    return (await c.response(ms)).status === 200;
  } catch {
    return false;  // not ready (yet)
  } finally {
    c.destroy();
  }
}

const show = (s, n = 160) => JSON.stringify(s.length > n ? `${s.slice(0, n)}...(${s.length} bytes)` : s);

// Asserts the server process is alive and answers GET /health with 200 on a new connection.
async function assertAlive(s, what = "") {
  assert.equal(s.exited(), null, `${what}: the server exited: ${JSON.stringify(s.exited())}\n${s.log().slice(-2000)}`);
  const c = new RawConn(s.port);
  await c.connected;
  c.write(HEALTH_CLOSE);
  let r;
  try { r = await c.response(5000 * SLOW); } finally { c.destroy(); }
  assert.equal(r.status, 200, `${what}: GET /health afterwards`);
  assert.equal(s.exited(), null, `${what}: the server exited`);
}

async function assertGenerates(s, what = "") {
  const c = new RawConn(s.port);
  await c.connected;
  c.write(GEN_CLOSE);
  let r;
  try { r = await c.response(10000 * SLOW); } finally { c.destroy(); }
  assert.equal(r.status, 200, `${what}: POST /generate afterwards: ${show(r.head + r.body, 400)}`);
  assert.equal(typeof JSON.parse(r.body).generated_text, "string");
}

// ---------------------------------------------------------------------------------------------
// Servers: one per test; a case that kills the server fails, and the next case gets a new one.
const servers = [];
after(async () => { for (const s of servers) await s.stop("SIGKILL"); });

function serverPool(args) {
  let current = null;
  return async () => {
    if (!current || current.exited()) {
      current = await startServer(args);
      servers.push(current);
    }
    return current;
  };
}

// One case: `request` on a new connection must get exactly `expected`, then a close; the server
// stays up. Run as a subtest so every case is reported on its own.
async function expectOnly(t, get, name, request, expected) {
  await t.test(name, async () => {
    const s = await get();
    const c = await exchange(s.port, request);
    assert.equal(c.text, expected,
      `request ${show(request, 200)}\n  expected ${show(expected, 400)}\n  got      ${show(c.text, 400)}` +
      (c.closed ? "" : " (and the connection was still open)"));
    assert.ok(c.closed, `connection closed after the answer (request ${show(request)})`);
    await assertAlive(s, name);
  });
}

function chunked(body, parts = 3) {
  const size = Math.ceil(body.length / parts);
  let out = "";
  for (let i = 0; i < body.length; i += size) {
    const piece = body.slice(i, i + size);
    out += `${piece.length.toString(16)}\r\n${piece}\r\n`;
  }
  return out;
}

const POST_CHUNKED = "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
  "Transfer-Encoding: chunked\r\n\r\n";

// ---------------------------------------------------------------------------------------------
// 1. Trailers and broken chunked bodies.
test("chunked trailers: oversized or malformed trailers get the body-error 400 and the server lives", async (t) => {
  const get = serverPool([]);
  const withTrailers = (trailers) => POST_CHUNKED + chunked(GEN_BODY) + "0\r\n" + trailers + "\r\n" + TAIL;
  const cases = [
    ["trailer value of 65 534 bytes (the SIGABRT crash)", `X-T: ${"a".repeat(65534)}\r\n`],
    ["trailer value of 65 533 bytes", `X-T: ${"a".repeat(65533)}\r\n`],
    ["trailer value of 16 385 bytes", `X-T: ${"a".repeat(16385)}\r\n`],
    ["trailer value of 1 MiB", `X-T: ${"a".repeat(1 << 20)}\r\n`],
    ["trailer name of 70 000 bytes", `${"N".repeat(70000)}: 1\r\n`],
    ["2 000 small trailer fields", Array.from({ length: 2000 }, (_, i) => `X-T${i}: 1\r\n`).join("")],
    ["trailer with a NUL byte in its value", "X-T: a\x00b\r\n"],
    ["trailer with a bare CR in its value", "X-T: a\rb\r\n"],
    ["trailer line starting with a space (obs-fold)", "X-T: a\r\n b\r\n"],
  ];
  for (const [name, trailers] of cases) await expectOnly(t, get, name, withTrailers(trailers), E400_BODY);
  const broken = [
    ["bad chunk size line", POST_CHUNKED + "zz\r\nhello\r\n0\r\n\r\n" + TAIL],
    ["chunk data not followed by CRLF", POST_CHUNKED + "5\r\n{\"inpXX0\r\n\r\n" + TAIL],
    ["chunk extension of 70 000 bytes", POST_CHUNKED + `5;ext=${"a".repeat(70000)}\r\n{"inp\r\n0\r\n\r\n` + TAIL],
  ];
  for (const [name, request] of broken) await expectOnly(t, get, name, request, E400_BODY);

  await t.test("a small valid trailer (X-T: 1): served normally", async () => {
    const s = await get();
    const c = new RawConn(s.port);
    await c.connected;
    c.write(POST_CHUNKED + chunked(GEN_BODY) + "0\r\nX-T: 1\r\n\r\n");
    const r = await c.response();
    assert.equal(r.status, 200, show(r.head + r.body, 400));
    assert.match(r.header("content-type") ?? "", /^application\/json/);
    assert.equal(typeof JSON.parse(r.body).generated_text, "string");
    // The connection stays usable (keep-alive).
    c.write(HEALTH_KA);
    assert.equal((await c.response()).status, 200);
    c.destroy();
    await assertAlive(s, "valid trailer");
    await assertGenerates(s, "valid trailer");
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Transfer-Encoding / Content-Length: smuggling shapes.
test("Transfer-Encoding / Content-Length combinations: one answer, then close; the rest is never served", async (t) => {
  const get = serverPool([]);
  await expectOnly(t, get, "the issue's repro: GET /health + Transfer-Encoding: gzip, then GET /info",
    "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nGET /info HTTP/1.1\r\nHost: x\r\n\r\n", E400);

  const post = (headers, body) => "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
    headers + "\r\n" + body + TAIL;
  const get0 = (headers) => "GET /health HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n" + TAIL;
  const te400 = [
    ["gzip", "Transfer-Encoding: gzip\r\n"],
    ["deflate", "Transfer-Encoding: deflate\r\n"],
    ["identity", "Transfer-Encoding: identity\r\n"],
    ["chunked, gzip", "Transfer-Encoding: chunked, gzip\r\n"],
    ["xchunked", "Transfer-Encoding: xchunked\r\n"],
    ["chunked , chunked", "Transfer-Encoding: chunked , chunked\r\n"],
    ["two fields chunked + chunked", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"],
    ["TE chunked + Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"],
    ["Content-Length + TE chunked", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"],
    ["'Transfer-Encoding : chunked' (space before the colon)", "Transfer-Encoding : chunked\r\n"],
  ];
  for (const [name, headers] of te400) {
    await expectOnly(t, get, `POST, TE ${name} -> 400`, post(headers, chunked(GEN_BODY) + "0\r\n\r\n"), E400);
    await expectOnly(t, get, `GET /health, TE ${name} -> 400`, get0(headers), E400);
  }
  await expectOnly(t, get, "POST, TE gzip, chunked -> 501",
    post("Transfer-Encoding: gzip, chunked\r\n", chunked(GEN_BODY) + "0\r\n\r\n"), E501);
  await expectOnly(t, get, "GET /health, TE gzip, chunked -> 501",
    get0("Transfer-Encoding: gzip, chunked\r\n"), E501);
  await expectOnly(t, get, "Transfer-Encoding on an HTTP/1.0 request -> 400",
    "POST /generate HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
    chunked(GEN_BODY) + "0\r\n\r\n" + TAIL, E400);

  const cl400 = [
    ["two equal Content-Length fields", "Content-Length: 5\r\nContent-Length: 5\r\n"],
    ["two different Content-Length fields", "Content-Length: 5\r\nContent-Length: 6\r\n"],
    ["Content-Length: 5, 5", "Content-Length: 5, 5\r\n"],
    ["Content-Length: -1", "Content-Length: -1\r\n"],
    ["Content-Length: +5", "Content-Length: +5\r\n"],
    ["Content-Length:  5 5", "Content-Length:  5 5\r\n"],
    ["Content-Length: 0x5", "Content-Length: 0x5\r\n"],
    ["Content-Length: 99999999999999999999999", "Content-Length: 99999999999999999999999\r\n"],
    ["Content-Length: 1e3", "Content-Length: 1e3\r\n"],
  ];
  for (const [name, headers] of cl400) await expectOnly(t, get, `${name} -> 400`, post(headers, "hello"), E400);
  await expectOnly(t, get, "Content-Length: 2000001 (over --payload-limit) -> 413",
    post("Content-Length: 2000001\r\n", "hello"), E413);

  await t.test("still generates", async () => {
    const s = await get();
    await assertGenerates(s, "after the smuggling cases");
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Header bytes and sizes; 4. request lines.
test("bad header bytes, too many or too large header fields, bad request lines", async (t) => {
  const get = serverPool([]);
  const req = (headers) => "GET /health HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n" + TAIL;
  const bad = [
    ["NUL in a header value", req("X-A: a\x00b\r\n")],
    ["bare CR in a header value", req("X-A: a\rb\r\n")],
    ["bare LF line endings (GET / HTTP/1.1\\nHost: x\\n\\n)", "GET / HTTP/1.1\nHost: x\n\n" + TAIL],
    ["a bare LF ending one header line", "GET /health HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n" + TAIL],
    ["obs-fold (X-A: a CRLF SP b)", req("X-A: a\r\n b\r\n")],
    ["control byte 0x01 in a value", req("X-A: a\x01b\r\n")],
    ["a space inside a header name", req("X A: b\r\n")],
    ["two Host fields", req("Host: y\r\n")],
  ];
  for (const [name, request] of bad) await expectOnly(t, get, `${name} -> 400`, request, E400);

  const fields = (n) => Array.from({ length: n }, (_, i) => `X-F${i}: v\r\n`).join("");
  // Host + 100 = 101 fields.
  await expectOnly(t, get, "101 header fields -> 431", req(fields(100)), E431);
  await expectOnly(t, get, "a 70 000-byte header value -> 431", req(`X-A: ${"v".repeat(70000)}\r\n`), E431);
  await t.test("100 header fields -> 200", async () => {
    const s = await get();
    const c = new RawConn(s.port);
    await c.connected;
    c.write("GET /health HTTP/1.1\r\nHost: x\r\n" + fields(99) + "\r\n");  // Host + 99 = 100
    const r = await c.response();
    c.destroy();
    assert.equal(r.status, 200, show(r.head, 300));
    await assertAlive(s, "100 fields");
  });

  await expectOnly(t, get, "GET / HTTP/2.0 -> 505", "GET / HTTP/2.0\r\nHost: x\r\n\r\n" + TAIL, E505);
  await expectOnly(t, get, "GET / HTTP/1.2 -> 505", "GET / HTTP/1.2\r\nHost: x\r\n\r\n" + TAIL, E505);
  await expectOnly(t, get, "garbage bytes -> 400", "\x00\x01\x02GARBAGE\r\n\r\n" + TAIL, E400);
  await expectOnly(t, get, "a request line of one word -> 400", "hello\r\n\r\n" + TAIL, E400);
  await t.test("still generates", async () => {
    await assertGenerates(await get(), "after the header cases");
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Slow clients.
test("slow clients: header, idle and body timeouts; a trickled body is served; others are not blocked", async () => {
  const s = await startServer(["--http-idle-timeout", "1", "--http-header-timeout", "1", "--http-body-timeout", "1"]);
  servers.push(s);
  const lo = 800;
  const hi = 3500 * SLOW;
  const within = (ms, what) => assert.ok(ms >= lo && ms <= hi, `${what}: after ${Math.round(ms)} ms, expected ${lo}..${hi}`);

  const scenarios = {
    async "header stalls (GET /health HTTP/1.1\\r\\nHo) -> 408 and close"() {
      const c = new RawConn(s.port);
      await c.connected;
      const t0 = performance.now();
      c.write("GET /health HTTP/1.1\r\nHo");
      await c.waitClosed(hi + 2000);
      c.destroy();
      assert.equal(c.text, E408, `got ${show(c.text, 300)}`);
      assert.ok(c.closed);
      within(c.closeAt - t0, "closed");
    },
    async "header trickled one byte per 200 ms (still incomplete after 1 s) -> 408"() {
      const c = new RawConn(s.port);
      await c.connected;
      const t0 = performance.now();
      c.write("GET /health HTTP/1.1\r\nX-Slow: ");
      const timer = setInterval(() => c.write("a"), 200);
      await c.waitClosed(hi + 2000);
      clearInterval(timer);
      c.destroy();
      assert.equal(c.text, E408, `got ${show(c.text, 300)}`);
      within(c.closeAt - t0, "closed");
    },
    async "a connection that sends nothing is closed silently"() {
      const c = new RawConn(s.port);
      await c.connected;
      const t0 = performance.now();
      await c.waitClosed(hi + 2000);
      c.destroy();
      assert.equal(c.text, "", "no bytes");
      assert.ok(c.closed, "closed");
      within(c.closeAt - t0, "closed");
    },
    async "keep-alive connection idle after one served request is closed silently"() {
      const c = new RawConn(s.port);
      await c.connected;
      c.write(HEALTH_KA);
      const r = await c.response();
      assert.equal(r.status, 200);
      const t0 = performance.now();
      await c.waitClosed(hi + 2000);
      c.destroy();
      assert.equal(c.text.slice(c.pos), "", "no bytes after the response");
      assert.ok(c.closed, "closed");
      within(c.closeAt - t0, "closed");
    },
    async "body stalls (Content-Length 100, 10 bytes sent) -> 408 and close"() {
      const c = new RawConn(s.port);
      await c.connected;
      c.write("POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n" +
        GEN_BODY.slice(0, 10));
      const t0 = performance.now();
      await c.waitClosed(hi + 2000);
      c.destroy();
      assert.equal(c.text, E408, `got ${show(c.text, 300)}`);
      within(c.closeAt - t0, "closed");
    },
    async "body trickled one byte per 300 ms is served"() {
      const c = new RawConn(s.port);
      await c.connected;
      const cut = GEN_BODY.length - 10;
      c.write("POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${GEN_BODY.length}\r\n\r\n` + GEN_BODY.slice(0, cut));
      for (let i = cut; i < GEN_BODY.length; ++i) {
        await sleep(300);
        assert.ok(c.write(GEN_BODY[i]), `the server closed the connection during the trickle: ${show(c.text, 300)}`);
      }
      const r = await c.response();
      c.destroy();
      assert.equal(r.status, 200, show(r.head + r.body, 400));
      assert.equal(typeof JSON.parse(r.body).generated_text, "string");
    },
    async "meanwhile, other clients are served at once"() {
      await sleep(300);
      for (let i = 0; i < 3; ++i) {
        let t0 = performance.now();
        await assertAlive(s, "health while slow clients wait");
        let ms = performance.now() - t0;
        assert.ok(ms < 1000 * SLOW, `GET /health took ${Math.round(ms)} ms while slow clients wait`);
        t0 = performance.now();
        await assertGenerates(s, "generate while slow clients wait");
        ms = performance.now() - t0;
        assert.ok(ms < 2000 * SLOW, `POST /generate took ${Math.round(ms)} ms while slow clients wait`);
        await sleep(300);
      }
    },
  };
  const names = Object.keys(scenarios);
  const results = await Promise.allSettled(names.map((n) => scenarios[n]()));
  const failures = results.map((r, i) => (r.status === "rejected" ? `${names[i]}: ${r.reason?.message ?? r.reason}` : null))
    .filter(Boolean);
  assert.deepEqual(failures, [], failures.join("\n"));
  await assertAlive(s, "after the slow clients");
  await assertGenerates(s, "after the slow clients");
});

// ---------------------------------------------------------------------------------------------
// 6. Descriptor exhaustion.

// startServer under `ulimit -n <nofile>`; health is polled on raw sockets with
// `Connection: close` (no pooled keep-alive connection holding one of the few descriptors).
async function startLimited(nofile, extraArgs = []) {
  const s = await startServer(extraArgs, {
    wrap: ["sh", "-c", `ulimit -n ${nofile}; exec "$0" "$@"`],
    healthy: (port) => rawHealthy(port, 2000),
  });
  servers.push(s);
  return s;
}

function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]);  // utime + stime (fields 14 and 15)
}
const lineCount = (text) => text.split("\n").length - 1;

// Release build only: a sanitizer runtime needs descriptors itself (UBSan's vptr check probes
// memory through a pipe on its first look at a type, and reports an invalid vptr when the pipe
// cannot be made), so a sanitized server cannot be run out of descriptors without false reports.
test("descriptor exhaustion: no busy accept loop, no log flood, open connections served, recovery", { skip: ASAN && "needs the Release build (sanitizer runtimes need descriptors)" }, async (t) => {
  const s = await startLimited(64);
  const pid = s.proc.pid;  // exec: the shell's pid is the server's
  const A = new RawConn(s.port);
  assert.ok(await A.connected);
  A.write(HEALTH_KA);
  assert.equal((await A.response()).status, 200);

  const idle = Array.from({ length: 100 }, () => new RawConn(s.port));
  const connected = await Promise.all(idle.map((c) => c.connected));
  assert.ok(connected.every(Boolean), "the 100 connects succeed at the TCP level");
  await sleep(500);  // the server accepts what it can and runs out of descriptors
  let fds = -1;
  try { fds = fs.readdirSync(`/proc/${pid}/fd`).length; } catch { /* gone */ }

  const ticks0 = cpuTicks(pid);
  const lines0 = lineCount(s.log());
  const w0 = performance.now();
  await sleep(1500);
  A.write(HEALTH_KA);
  const ra = await A.response(3000 * SLOW);
  const left = 3000 - (performance.now() - w0);
  if (left > 0) await sleep(left);
  const ticks1 = cpuTicks(pid);
  const lines1 = lineCount(s.log());
  const seconds = (performance.now() - w0) / 1000;
  const cpu = (ticks1 - ticks0) / 100 / seconds;
  const logTail = s.log().split("\n").slice(-5).join("\n");

  t.diagnostic(`${fds} descriptors open; CPU ${(cpu * 100).toFixed(1)} % over ${seconds.toFixed(1)} s; ` +
    `log +${lines1 - lines0} lines`);
  assert.equal(s.exited(), null, `the server exited: ${JSON.stringify(s.exited())}\n${s.log().slice(-2000)}`);
  assert.equal(ra.status, 200, "connection A is served while descriptors are exhausted");
  assert.ok(cpu < 0.05, `server CPU ${(cpu * 100).toFixed(1)} % of one core over ${seconds.toFixed(1)} s ` +
    `while exhausted (${fds} descriptors open); log tail:\n${logTail}`);
  assert.ok(lines1 - lines0 < 20, `the log grew by ${lines1 - lines0} lines in ${seconds.toFixed(1)} s; tail:\n${logTail}`);

  for (const c of idle) c.destroy();
  const deadline = performance.now() + 5000 * SLOW;
  let served = false;
  while (!served && performance.now() < deadline) {
    served = await rawHealthy(s.port, 1000);
    if (!served) await sleep(100);
  }
  assert.ok(served, `a new connection is accepted and served within ${5 * SLOW} s after the idle ones left`);
  A.write(HEALTH_KA);
  assert.equal((await A.response()).status, 200, "connection A still served");
  A.destroy();
  assert.equal(s.exited(), null);
  const stopped = await s.stop();
  assert.deepEqual(stopped, { code: 0, signal: null });
});

// ---------------------------------------------------------------------------------------------
// 7. Pipelining.
test("pipelined keep-alive requests in one write are answered in order", async () => {
  const s = await startServer([]);
  servers.push(s);
  const c = new RawConn(s.port);
  await c.connected;
  c.write(HEALTH_KA.repeat(3));
  for (let i = 0; i < 3; ++i) {
    const r = await c.response();
    assert.equal(r.statusLine, "HTTP/1.1 200 OK", `answer ${i + 1}`);
    assert.equal(r.body, "");
  }
  // Different requests: the answers come in the order asked.
  const gen = "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
    `Content-Length: ${GEN_BODY.length}\r\n\r\n${GEN_BODY}`;
  c.write(HEALTH_KA + "GET /info HTTP/1.1\r\nHost: x\r\n\r\n" + gen + HEALTH_KA);
  const r1 = await c.response();
  assert.equal(r1.status, 200);
  assert.equal(r1.body, "");
  const r2 = await c.response();
  assert.equal(r2.status, 200);
  assert.equal(JSON.parse(r2.body).router, "streamgen");
  const r3 = await c.response();
  assert.equal(r3.status, 200);
  assert.equal(typeof JSON.parse(r3.body).generated_text, "string");
  const r4 = await c.response();
  assert.equal(r4.status, 200);
  assert.equal(r4.body, "");
  await sleep(200);
  assert.equal(c.text.slice(c.pos), "", "nothing more than the four answers");
  assert.ok(!c.closed, "the keep-alive connection stays open");
  c.destroy();
  await assertAlive(s, "pipelining");
});
