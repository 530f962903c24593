// Load on loopback, bounded in count and time (STREAMGEN_LOAD_SECONDS, default 30):
//   * 256 concurrent streaming clients, each starting a new greedy stream as soon as one ends —
//     zero errors, every stream complete and identical to its expected text, RSS stable;
//   * a disconnect storm (clients dropping at random points) leaves no held slots or KV blocks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, postJson, readSse, scrapeMetrics } from "./server.mjs";

const CLIENTS = Number(process.env.STREAMGEN_LOAD_CLIENTS ?? 256);
const SECONDS = Number(process.env.STREAMGEN_LOAD_SECONDS ?? 30);
const PROMPTS = ["ROMEO:\n", "JULIET:\n", "First Citizen:\n", "KING RICHARD III:\n",
  "To be, or not", "MENENIUS:\nWhat", "O, ", "My lord,"];
const MAX_NEW = 16;

let server;
before(async () => {
  server = await startServer(["--max-concurrent-requests", String(CLIENTS + 8)]);
});
after(async () => { await server.stop(); });

async function idle() {
  // Every slot and KV block comes back once the server has nothing to do.
  const deadline = Date.now() + 5000;
  for (;;) {
    const m = await scrapeMetrics(server.url);
    const free = m["streamgen_kv_blocks_free"];
    const total = m["streamgen_kv_blocks_total"];
    const inFlight = m["streamgen_requests_in_flight"];
    if (free === total && inFlight === 0 && m["tgi_queue_size"] === 0) return m;
    if (Date.now() > deadline) {
      assert.fail(`not idle: free ${free}/${total}, in flight ${inFlight}, queue ${m["tgi_queue_size"]}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(`${CLIENTS} concurrent streaming clients for ${SECONDS} s`, async () => {
  const expected = {};
  for (const p of PROMPTS) {
    const r = await postJson(`${server.url}/generate`, { inputs: p, parameters: { max_new_tokens: MAX_NEW } });
    assert.equal(r.status, 200);
    expected[p] = r.json.generated_text;
  }
  const rssStart = server.rssKiB();
  const stopAt = Date.now() + SECONDS * 1000;
  let streams = 0;
  const errors = [];
  let rssMid = 0;
  async function client(i) {
    let n = i;
    while (Date.now() < stopAt) {
      const prompt = PROMPTS[n++ % PROMPTS.length];
      try {
        const s = await readSse(`${server.url}/generate_stream`, { inputs: prompt, parameters: { max_new_tokens: MAX_NEW } });
        const last = s.events.at(-1);
        if (s.events.length !== MAX_NEW || !last || last.generated_text !== expected[prompt]) {
          errors.push(`stream for ${JSON.stringify(prompt)}: ${s.text.slice(0, 300)}`);
        }
        const joined = s.events.map((e) => e.token?.text ?? "").join("");
        if (joined !== expected[prompt]) errors.push(`token texts differ for ${JSON.stringify(prompt)}`);
        streams++;
      } catch (e) {
        errors.push(String(e));
      }
      if (i === 0 && !rssMid && Date.now() > stopAt - (SECONDS * 1000) / 2) rssMid = server.rssKiB();
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  const rssEnd = server.rssKiB();
  assert.deepEqual(errors.slice(0, 5), [], `${errors.length} errors`);
  assert.ok(streams >= CLIENTS, `${streams} streams completed`);
  // RSS stable: the second half of the run grows it by less than 16 MiB.
  assert.ok(rssEnd - (rssMid || rssStart) < 16 * 1024,
    `RSS start ${rssStart} KiB, mid ${rssMid} KiB, end ${rssEnd} KiB`);
  const m = await idle();
  assert.equal(m["tgi_request_failure{err=\"overloaded\"}"] ?? 0, 0);
  console.log(`load: ${streams} streams of ${MAX_NEW} tokens by ${CLIENTS} clients in ${SECONDS} s; ` +
    `RSS ${rssStart} -> ${rssMid} -> ${rssEnd} KiB`);
  // Where serving time went: the engine thread's steps, its hand-off of events, and the event
  // dispatcher's callbacks (JSON, SSE, metrics, logs), which run off the engine thread.
  const step = m["streamgen_engine_step_seconds"], handoff = m["streamgen_event_handoff_seconds"];
  const delivery = m["streamgen_event_delivery_seconds"], events = m["streamgen_events_delivered"];
  assert.ok(events >= streams * MAX_NEW, `${events} events delivered for ${streams} streams`);
  assert.ok(step > 0 && handoff >= 0 && delivery > 0, `step ${step} s, handoff ${handoff} s, delivery ${delivery} s`);
  console.log(`serving cost: hand-off ${(100 * handoff / step).toFixed(3)}% of the engine thread's ` +
    `step time; callbacks ${(1e6 * delivery / events).toFixed(1)} us per event on the dispatcher ` +
    `thread (${(100 * delivery / step).toFixed(2)}% of step time, off the engine thread)`);
});

test("a disconnect storm leaves no held slots or KV blocks", async () => {
  const before = await idle();
  const dropped0 = before['tgi_request_failure{err="dropped"}'] ?? 0;
  const tasks = Array.from({ length: CLIENTS }, async (_, i) => {
    const ctrl = new AbortController();
    const delay = (i * 7919) % 400;  // deterministic spread of drop points, 0-400 ms
    setTimeout(() => ctrl.abort(), delay);
    try {
      const r = await fetch(`${server.url}/generate_stream`, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ inputs: PROMPTS[i % PROMPTS.length], parameters: { max_new_tokens: 200 } }),
        signal: ctrl.signal,
      });
      const reader = r.body.getReader();
      for (;;) { const { done } = await reader.read(); if (done) break; }
    } catch { /* aborted */ }
  });
  await Promise.all(tasks);
  const after = await idle();
  assert.ok((after['tgi_request_failure{err="dropped"}'] ?? 0) > dropped0, "drops were counted");
  const ok = await postJson(`${server.url}/generate`, { inputs: "ROMEO:\n", parameters: { max_new_tokens: 4 } });
  assert.equal(ok.status, 200);
});
