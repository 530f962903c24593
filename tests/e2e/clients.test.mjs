// Real clients against a running `streamgen serve`: @huggingface/inference 4.x (which calls
// /v1/completions), 2.x (TGI's native POST / route), curl -N, and plain fetch on every route.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { InferenceClient } from "@huggingface/inference";
import { HfInferenceEndpoint } from "hf-inference-v2";
import { startServer, postJson, readSse } from "./server.mjs";

const run = promisify(execFile);
let server;
before(async () => { server = await startServer(["--max-concurrent-requests", "16"]); });
after(async () => {
  const exit = await server.stop();
  assert.equal(exit.code, 0, `serve must exit 0 on SIGTERM:\n${server.log()}`);
});

const PROMPT = "ROMEO:\n";
const greedy = { max_new_tokens: 24 };

test("streamed tokens concatenate to the non-streamed generated_text (greedy)", async () => {
  const full = await postJson(`${server.url}/generate`, { inputs: PROMPT, parameters: greedy });
  assert.equal(full.status, 200);
  assert.deepEqual(Object.keys(full.json), ["generated_text"]);
  assert.ok(full.json.generated_text.length > 0);
  assert.ok(full.headers.get("x-generated-tokens"));
  const s = await readSse(`${server.url}/generate_stream`, { inputs: PROMPT, parameters: greedy });
  assert.equal(s.status, 200);
  assert.match(s.headers.get("content-type"), /^text\/event-stream/);
  assert.equal(s.headers.get("cache-control"), "no-cache");
  assert.equal(s.headers.get("x-accel-buffering"), "no");
  assert.equal(s.events.length, 24);
  s.events.forEach((e, i) => {
    assert.equal(e.index, i + 1);
    assert.deepEqual(Object.keys(e), ["index", "token", "generated_text", "details"]);
    assert.deepEqual(Object.keys(e.token), ["id", "text", "logprob", "special"]);
    // A greedy /generate skips the softmax; a stream still shows every token's logprob.
    assert.ok(typeof e.token.logprob === "number" && e.token.logprob <= 0, `logprob ${e.token.logprob}`);
  });
  const last = s.events.at(-1);
  assert.equal(last.generated_text, full.json.generated_text);
  assert.equal(s.events.map((e) => e.token.text).join(""), full.json.generated_text);
  assert.equal(last.details, null);
  assert.ok(!s.text.includes("data: \n"), "never an empty data line");
});

test("details and top_n_tokens have TGI's shapes", async () => {
  const r = await postJson(`${server.url}/generate`, {
    inputs: PROMPT, parameters: { max_new_tokens: 5, details: true, top_n_tokens: 3 },
  });
  assert.equal(r.status, 200);
  const d = r.json.details;
  assert.deepEqual(Object.keys(r.json), ["generated_text", "details"]);
  assert.deepEqual(Object.keys(d),
    ["finish_reason", "generated_tokens", "seed", "prefill", "tokens", "top_tokens"]);
  assert.equal(d.finish_reason, "length");
  assert.equal(d.generated_tokens, 5);
  assert.equal(d.seed, null);
  assert.deepEqual(d.prefill, []);
  assert.equal(d.tokens.length, 5);
  assert.equal(d.top_tokens.length, 5);
  for (const [i, tops] of d.top_tokens.entries()) {
    assert.equal(tops[0].logprob, d.tokens[i].logprob);
    assert.ok(tops.length >= 3);
    assert.equal(tops[0].id, d.tokens[i].id, "greedy picks the top token");
    for (let j = 1; j < tops.length; j++) assert.ok(tops[j - 1].logprob >= tops[j].logprob);
  }
  const s = await readSse(`${server.url}/generate_stream`, {
    inputs: PROMPT, parameters: { max_new_tokens: 3, details: true, top_n_tokens: 2 },
  });
  const last = s.events.at(-1);
  assert.deepEqual(Object.keys(last),
    ["index", "token", "top_tokens", "generated_text", "details"]);
  assert.deepEqual(last.details,
    { finish_reason: "length", generated_tokens: 3, seed: null, input_length: last.details.input_length });
  assert.ok(last.details.input_length >= 2);
});

test("seeded sampling is reproducible, also with other requests in the batch", async () => {
  const body = { inputs: PROMPT, parameters: { max_new_tokens: 20, do_sample: true, temperature: 0.8, seed: 42, details: true } };
  const alone = await postJson(`${server.url}/generate`, body);
  assert.equal(alone.json.details.seed, 42);
  const noise = Array.from({ length: 6 }, (_, i) => postJson(`${server.url}/generate`, {
    inputs: `KING HENRY ${i}:\n`, parameters: { max_new_tokens: 30, do_sample: true, seed: 1000 + i },
  }));
  const [again] = await Promise.all([postJson(`${server.url}/generate`, body), ...noise]);
  assert.equal(again.json.generated_text, alone.json.generated_text);
  const other = await postJson(`${server.url}/generate`, { ...body, parameters: { ...body.parameters, seed: 43 } });
  assert.notEqual(other.json.generated_text, alone.json.generated_text);
});

test("no parameters samples with a random seed; {} is greedy", async () => {
  const a = await postJson(`${server.url}/generate`, { inputs: PROMPT, parameters: { details: true, max_new_tokens: 4, do_sample: true } });
  assert.equal(typeof a.json.details.seed, "number");
  const b = await postJson(`${server.url}/generate`, { inputs: PROMPT, parameters: { details: true, max_new_tokens: 4 } });
  assert.equal(b.json.details.seed, null);
});

test("stop sequences end the generation and are kept", async () => {
  const free = await postJson(`${server.url}/generate`, { inputs: PROMPT, parameters: { max_new_tokens: 40, details: true } });
  const text = free.json.generated_text;
  // A stop string spanning the texts of tokens 3 and 4 of the greedy run: it ends on a token
  // boundary, so the rolling text ends with it after token 4 (TGI's rule, §3.5).
  const t = free.json.details.tokens.map((x) => x.text);
  const stop = t[2].slice(-2) + t[3];
  const r = await postJson(`${server.url}/generate`, {
    inputs: PROMPT, parameters: { max_new_tokens: 40, stop: [stop], details: true },
  });
  assert.equal(r.json.details.finish_reason, "stop_sequence");
  assert.ok(r.json.generated_text.endsWith(stop));
  assert.ok(text.startsWith(r.json.generated_text));
});

test("POST / returns a list and echoes the prompt by default; stream:true streams", async () => {
  const r = await postJson(`${server.url}/`, { inputs: PROMPT, parameters: greedy });
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.json));
  const g = await postJson(`${server.url}/generate`, { inputs: PROMPT, parameters: greedy });
  assert.equal(r.json[0].generated_text, PROMPT + g.json.generated_text);
  const s = await readSse(`${server.url}/`, { inputs: PROMPT, parameters: greedy, stream: true });
  assert.equal(s.events.at(-1).generated_text, PROMPT + g.json.generated_text);
});

test("@huggingface/inference 4.x textGeneration and textGenerationStream (/v1/completions)", async () => {
  const client = new InferenceClient().endpoint(server.url);
  const out = await client.textGeneration({ inputs: PROMPT, parameters: { max_new_tokens: 12, temperature: 0 } });
  const g = await postJson(`${server.url}/generate`, { inputs: PROMPT, parameters: { max_new_tokens: 12 } });
  assert.equal(out.generated_text, g.json.generated_text);
  let streamed = "";
  let chunks = 0;
  for await (const chunk of client.textGenerationStream({ inputs: PROMPT, parameters: { max_new_tokens: 12, temperature: 0 } })) {
    chunks++;
    streamed += chunk.choices[0].text;
  }
  assert.equal(chunks, 12);
  assert.equal(streamed, g.json.generated_text);
});

test("@huggingface/inference 2.x textGeneration and textGenerationStream (TGI's POST /)", async () => {
  const hf = new HfInferenceEndpoint(server.url);
  // `model` only keeps 2.x from asking the Hub for a default model; the endpoint URL wins.
  const out = await hf.textGeneration({ model: "tgi", inputs: PROMPT, parameters: { max_new_tokens: 12, return_full_text: false } });
  const g = await postJson(`${server.url}/generate`, { inputs: PROMPT, parameters: { max_new_tokens: 12 } });
  assert.equal(out.generated_text, g.json.generated_text);
  const tokens = [];
  let final = null;
  for await (const ev of hf.textGenerationStream({ model: "tgi", inputs: PROMPT, parameters: { max_new_tokens: 12, return_full_text: false } })) {
    tokens.push(ev.token.text);
    if (ev.generated_text !== null) final = ev.generated_text;
  }
  assert.equal(tokens.length, 12);
  assert.equal(tokens.join(""), g.json.generated_text);
  assert.equal(final, g.json.generated_text);
});

test("curl -N streams /generate_stream", async () => {
  const { stdout } = await run("curl", ["-sN", `${server.url}/generate_stream`, "-X", "POST",
    "-H", "Content-Type: application/json",
    "-d", JSON.stringify({ inputs: PROMPT, parameters: { max_new_tokens: 8 } })]);
  const events = stdout.split("\n\n").filter((b) => b.startsWith("data: "));
  assert.equal(events.length, 8);
  assert.ok(stdout.endsWith("\n\n"));
  const { stdout: noCt } = await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}",
    `${server.url}/generate`, "-d", JSON.stringify({ inputs: "x" })]);
  assert.equal(noCt, "415", "curl -d without a JSON content type gets TGI's 415");
});

test("/info, /health, /ping, GET /, /v1/models, /tokenize, /api-doc/openapi.json", async () => {
  const info = await (await fetch(`${server.url}/info`)).json();
  for (const k of ["model_id", "model_sha", "model_pipeline_tag", "max_concurrent_requests", "max_best_of",
    "max_stop_sequences", "max_input_tokens", "max_total_tokens", "validation_workers",
    "max_client_batch_size", "router", "version", "sha", "docker_label"]) {
    assert.ok(k in info, `info.${k}`);
  }
  assert.equal(info.max_concurrent_requests, 16);
  for (const p of ["/health", "/ping", "/"]) {
    const r = await fetch(`${server.url}${p}`);
    assert.equal(r.status, 200, p);
    assert.equal(await r.text(), "");
  }
  const models = await (await fetch(`${server.url}/v1/models`)).json();
  assert.equal(models.object, "list");
  assert.equal(models.data[0].id, info.model_id);
  const tok = await postJson(`${server.url}/tokenize`, { inputs: "ROMEO: hi" });
  assert.equal(tok.status, 200);
  assert.deepEqual(tok.json[0], { id: 1, text: "", start: 0, stop: 0 });
  assert.equal(tok.json.slice(1).map((t) => t.text).join(""), "ROMEO: hi");
  const doc = await (await fetch(`${server.url}/api-doc/openapi.json`)).json();
  assert.ok(doc.paths["/generate_stream"]);
});
