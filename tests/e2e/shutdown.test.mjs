// Shutdown under load (the acceptance): on SIGTERM (or SIGINT) every open stream ends
// with complete chunked framing and a last event that is either the final token or the
// "Incomplete generation stream" error; every non-streamed request gets its 200 or the exact
// "Incomplete generation" 500; idle connections see a plain EOF; the process exits 0.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { startServer, sleep, ASAN, SLOW } from "./server.mjs";
import { parseResponse, RawConn } from "./raw_http.mjs";

const ROUNDS = Number(process.env.STREAMGEN_SHUTDOWN_ROUNDS ?? (ASAN ? 5 : 20));
const STREAMS = 8;
const NON_STREAMS = 2;
const EXIT_MS = 10000;

const LONG_BODY = '{"inputs":"ROMEO:","parameters":{"max_new_tokens":200}}';
const post = (path, body) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${body.length}\r\n\r\n${body}`;
const INCOMPLETE_STREAM = { error: "Incomplete generation stream", error_type: "incomplete_generation_stream" };
const INCOMPLETE_BODY = '{"error":"Incomplete generation","error_type":"incomplete_generation"}';

const show = (s, n = 300) => JSON.stringify(s.length > n ? `${s.slice(0, n)}...(${s.length} bytes)` : s);

// What every answered request must show: a clean EOF and one complete response. Returns the
// problems so far and the response (null when there is none to check further).
function endedResponse(c) {
  const p = [];
  if (c.error) p.push(`socket error ${c.error.code} (${c.how()})`);
  if (!c.ended) p.push(`no EOF (${c.how()})`);
  const r = parseResponse(c.text, 0, true);
  if (!r) p.push(`no response (${c.how()})`);
  else if (r.error) p.push(r.error);
  return { p, r: r?.error ? null : r };
}

// Checks one streamed answer; returns a list of problems (empty when fine).
function checkStream(c) {
  const { p, r } = endedResponse(c);
  if (!r) return p;
  if (r.statusLine !== "HTTP/1.1 200 OK") p.push(`status line ${show(r.statusLine)}`);
  if (!r.chunked) p.push(`not chunked: ${show(r.head)}`);
  if (r.end !== c.text.length) p.push(`bytes after the zero-length chunk: ${show(c.text.slice(r.end))}`);
  const body = Buffer.from(r.body, "latin1").toString("utf8");
  if (!body.endsWith("\n\n")) return [...p, `body does not end with an event: ${show(body.slice(-200))}`];
  const blocks = body.slice(0, -2).split("\n\n");
  const events = [];
  for (const b of blocks) {
    if (!b.startsWith("data: ")) { p.push(`not a data event: ${show(b)}`); continue; }
    try { events.push(JSON.parse(b.slice(6))); } catch { p.push(`event is not JSON: ${show(b)}`); }
  }
  if (events.length === 0) return [...p, "no events"];
  events.slice(0, -1).forEach((e, i) => {
    if (!e.token || e.generated_text !== null) p.push(`event ${i + 1} of ${events.length} is not a token event: ${show(JSON.stringify(e))}`);
  });
  const last = events.at(-1);
  const final = last.token && typeof last.generated_text === "string";
  const incomplete = JSON.stringify(last) === JSON.stringify(INCOMPLETE_STREAM);
  if (!final && !incomplete) p.push(`last event is neither final nor the incomplete error: ${show(JSON.stringify(last))}`);
  return p;
}

// Checks one non-streamed answer: its 200, or the exact "Incomplete generation" 500.
function checkNonStream(c) {
  const { p, r } = endedResponse(c);
  if (!r) return p;
  if (r.end !== c.text.length) p.push(`bytes after the response: ${show(c.text.slice(r.end))}`);
  if (r.status === 200) {
    let j = null;
    try { j = JSON.parse(Buffer.from(r.body, "latin1").toString("utf8")); } catch { /* below */ }
    if (typeof j?.generated_text !== "string") p.push(`200 without generated_text: ${show(r.body)}`);
  } else if (r.status === 500) {
    if (r.statusLine !== "HTTP/1.1 500 Internal Server Error") p.push(`status line ${show(r.statusLine)}`);
    if (r.header("content-type") !== "application/json") p.push(`500 content-type ${show(String(r.header("content-type")))}`);
    if (r.body !== INCOMPLETE_BODY) p.push(`500 body ${show(r.body)}, expected ${INCOMPLETE_BODY}`);
  } else {
    p.push(`status ${r.status}: ${show(r.head + r.body)}`);
  }
  return p;
}

function checkIdle(c) {
  const p = [];
  if (c.text !== "") p.push(`bytes on an idle connection: ${show(c.text)}`);
  if (c.error) p.push(`socket error ${c.error.code} instead of EOF`);
  if (!c.ended) p.push(`no EOF (${c.how()})`);
  return p;
}

const servers = [];
after(async () => { for (const s of servers) if (!s.exited()) await s.stop("SIGKILL"); });

// One round: the load, a random delay, the signal; then every check.
async function round({ signal = "SIGTERM", grace = 0, midHead = false, delay } = {}) {
  const s = await startServer(["--threads", "1", "-g", String(grace)]);
  servers.push(s);
  const problems = [];
  const stats = { final: 0, incomplete: 0, generate: {}, heads: [] };
  try {
    // Opened first so that the server has accepted them before it accepts the streams (FIFO).
    const idleSilent = new RawConn(s.port, "idle (never sent)");
    const idleServed = new RawConn(s.port, "idle (after GET /health)");
    await Promise.all([idleSilent.connected, idleServed.connected]);
    idleServed.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.ok(await idleServed.until(() => parseResponse(idleServed.text, 0)?.status === 200, 5000 * SLOW),
      `GET /health on the idle connection: ${idleServed.how()}`);
    idleServed.text = "";  // only what comes after the served request counts

    const nonStreams = Array.from({ length: NON_STREAMS }, (_, i) => new RawConn(s.port, `generate #${i + 1}`));
    for (const c of nonStreams) { await c.connected; c.write(post("/generate", LONG_BODY)); }
    const streams = Array.from({ length: STREAMS }, (_, i) => new RawConn(s.port, `stream #${i + 1}`));
    for (const c of streams) { await c.connected; c.write(post("/generate_stream", LONG_BODY)); }
    // Every stream has its head: every connection above has been accepted and read.
    for (const c of streams) {
      assert.ok(await c.until(() => c.text.includes("\r\n\r\n") || c.closed, 10000 * SLOW), `${c.name}: no head`);
    }
    const heads = [];
    if (midHead) {
      // Clients in the middle of a request head when the signal comes.
      // The first two finish their head just after the signal; the third never does.
      heads.push(new RawConn(s.port, "mid request line"), new RawConn(s.port, "mid header"),
        new RawConn(s.port, "stuck mid header"));
      await Promise.all(heads.map((c) => c.connected));
      heads[0].write("POST /gener");
      heads[1].write("POST /generate HTTP/1.1\r\nHost: x\r\nContent-Ty");
      heads[2].write("POST /generate HTTP/1.1\r\nHost: x\r\nContent-Ty");
      await sleep(50);
    }

    await sleep(delay ?? 50 + Math.floor(Math.random() * 551));
    const signalledAt = performance.now();
    s.proc.kill(signal);
    if (midHead) {
      await sleep(30);
      const full = post("/generate", LONG_BODY);
      for (const [c, sent] of [[heads[0], "POST /gener"], [heads[1], "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Ty"]]) {
        c.lateWrite = true;
        c.write(full.slice(sent.length));
      }
    }
    const exitTimer = setTimeout(() => s.proc.kill("SIGKILL"), EXIT_MS + 5000);
    if (!s.exited()) await Promise.race([once(s.proc, "exit"), sleep(EXIT_MS + 6000)]);
    clearTimeout(exitTimer);
    const exitMs = performance.now() - signalledAt;
    stats.exitMs = Math.round(exitMs);
    const all = [idleSilent, idleServed, ...nonStreams, ...streams, ...heads];
    // The process is gone: every socket ends now.
    await Promise.all(all.map((c) => c.until(() => c.closed, 3000)));
    for (const c of all) c.destroy();

    if (JSON.stringify(s.exited()) !== JSON.stringify({ code: 0, signal: null })) {
      problems.push(`process: exit ${JSON.stringify(s.exited())} (expected code 0), ${Math.round(exitMs)} ms after ${signal}`);
    } else if (exitMs > EXIT_MS) {
      problems.push(`process: exited ${Math.round(exitMs)} ms after ${signal} (limit ${EXIT_MS})`);
    }
    for (const c of streams) for (const x of checkStream(c)) problems.push(`${c.name}: ${x}`);
    for (const c of streams) {
      if (c.text.includes('"generated_text":"')) ++stats.final;
      else if (c.text.includes("incomplete_generation_stream")) ++stats.incomplete;
    }
    for (const c of nonStreams) {
      const st = /^HTTP\/1\.1 (\d+)/.exec(c.text)?.[1] ?? "none";
      stats.generate[st] = (stats.generate[st] ?? 0) + 1;
    }
    for (const c of nonStreams) for (const x of checkNonStream(c)) problems.push(`${c.name}: ${x}`);
    for (const c of [idleSilent, idleServed]) for (const x of checkIdle(c)) problems.push(`${c.name}: ${x}`);
    for (const c of heads) {
      stats.heads.push(c.text === "" ? (c.ended ? "EOF" : `no bytes, ${c.error?.code}`)
        : `${/^HTTP\/1\.[01] \d+/.exec(c.text)?.[0] ?? show(c.text, 40)}${c.ended ? " + EOF" : ""}`);
      // A complete answer, or a clean close without bytes. A reset is tolerated only as the
      // reaction to our own write after the server had closed.
      if (c.text === "") {
        if (!c.ended && !(c.error && c.errorAfterLateWrite)) problems.push(`${c.name}: neither EOF nor an answer (${c.how()})`);
        continue;
      }
      const r = parseResponse(c.text, 0, true);
      if (!r || r.error) problems.push(`${c.name}: incomplete answer ${r?.error ?? ""}: ${show(c.text)}`);
      else if (r.end !== c.text.length) problems.push(`${c.name}: bytes after the answer: ${show(c.text.slice(r.end))}`);
      else if (c.error && !c.errorAfterLateWrite) problems.push(`${c.name}: socket error ${c.error.code} after the answer`);
    }
  } finally {
    if (!s.exited()) await s.stop("SIGKILL");
  }
  if (problems.length) problems.push(`server log tail:\n${s.log().split("\n").slice(-15).join("\n")}`);
  return { problems, stats: `exit after ${stats.exitMs} ms; streams: ${stats.final} final, ${stats.incomplete} incomplete; /generate: ${JSON.stringify(stats.generate)}` +
    (midHead ? `; mid-head clients: ${stats.heads.join(", ")}` : "") };
}

test(`SIGTERM under load, ${ROUNDS} rounds: every stream ends cleanly, exit 0`, async (t) => {
  for (let i = 0; i < ROUNDS; ++i) {
    const grace = i % 4 === 3 ? 1 : 0;
    await t.test(`round ${i + 1} (-g ${grace})`, async (st) => {
      const { problems, stats } = await round({ grace });
      st.diagnostic(stats);
      if (problems.length) assert.fail(problems.join("\n"));
    });
  }
});

test("SIGINT under load: the same clean ending", async (t) => {
  const { problems, stats } = await round({ signal: "SIGINT" });
  t.diagnostic(stats);
  if (problems.length) assert.fail(problems.join("\n"));
});

test("SIGTERM while clients are in the middle of a request head: an answer or a clean close, exit 0", async (t) => {
  for (const delay of [50, 300]) {
    const { problems, stats } = await round({ midHead: true, delay });
    t.diagnostic(stats);
    if (problems.length) assert.fail(problems.join("\n"));
  }
});
