// Structured output through a real `streamgen serve` on the demo model (API contract §3.8, §9.1,
// §9.3, §9.5; issue 14): every constrained output is checked by an independent validator.
//  (a) every schema in tests/constrain/schemas (but unsupported.json): N sampled outputs each
//      (temperature 1.0, a seed per request) through POST /generate with TGI's
//      {"type":"json","value":schema}, each validated by ajv (draft 2020-12, ajv-formats "full").
//      Every sampled output must parse, validate and end with eos_token: the grammar keeps the
//      text completable within max_new_tokens with room for EOS before the last token. Only a
//      greedy run cut short by a budget below the schema's shortest text may end with `length`
//      (unparsed);
//  (b) 10 regexes, N outputs each, checked by JavaScript's own RegExp (`u` flag);
//  (c) every unsupported.json case is a 422 naming its keyword; an invalid regex is a 422 for that
//      request alone while a concurrent stream finishes; --disable-grammar-support refuses all;
//  (d) real clients: openai (response_format json_schema, tools with tool_choice "required" and a
//      named function, streamed and not), @huggingface/inference chatCompletion with tools, and
//      the native grammar as huggingface_hub's text_generation(grammar=...) sends it.
// STREAMGEN_GRAMMAR_N sets N (default 200; 8 under ASan). 128 requests run at a time (the demo
// model's engine is fastest with large batches: 3600 generations take ~55 s on 2 cores, where 16
// at a time took over twice as long). max_new_tokens is 192: an unbounded string runs until the
// budget makes the grammar close it, so 512 made three schemas' outputs 512 tokens each and the
// test three times slower while testing nothing more (set STREAMGEN_GRAMMAR_MAX_NEW_TOKENS).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import OpenAI from "openai";
import { InferenceClient } from "@huggingface/inference";
import { startServer, postJson, readSse, repoRoot, ASAN } from "./server.mjs";

const N = Number(process.env.STREAMGEN_GRAMMAR_N ?? (ASAN ? 8 : 200));
const CONCURRENCY = Number(process.env.STREAMGEN_GRAMMAR_CONCURRENCY ?? 128);
const MAX_NEW_TOKENS = Number(process.env.STREAMGEN_GRAMMAR_MAX_NEW_TOKENS ?? 192);
const SCHEMA_DIR = path.join(repoRoot, "tests", "constrain", "schemas");
const TEMPLATE = path.join(repoRoot, "..", "shared", "refdata", "templates", "Qwen-QwQ-32B.jinja");
const haveTemplate = fs.existsSync(TEMPLATE);
const chatOpts = { skip: haveTemplate ? false : `no ${TEMPLATE}` };

const schemaFiles = fs.readdirSync(SCHEMA_DIR)
  .filter((f) => f.endsWith(".json") && f !== "unsupported.json").sort();
const unsupported = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, "unsupported.json"), "utf8"));

// The independent checker: ajv in draft 2020-12 mode with full format checks. strict off: TGI's
// schemas carry non-standard keys ($functions).
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv, { mode: "full" });

// TGI's router wants a top-level `properties` (§3.2 item 17); `"properties": {}` constrains
// nothing, so a schema without one (a top-level oneOf or allOf) is sent with it added and
// validated as written.
function sendable(schema) {
  return "properties" in schema ? schema : { ...schema, properties: {} };
}

const REGEXES = [
  String.raw`\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])`,  // ISO date
  String.raw`[A-Za-z_][A-Za-z0-9_]{0,15}`,  // identifier
  String.raw`\+1 \(\d{3}\) \d{3}-\d{4}`,  // phone number
  String.raw`(red|green|blue|yellow)( and (red|green|blue))?`,  // alternation
  String.raw`(ab|cd){2,4}x{3}`,  // counted repeats of a group
  String.raw`[a-zäöüß]{3,8}`,  // a class with Latin-1 letters
  String.raw`[α-ω]{1,4} [А-Яа-я]{2,5}`,  // Greek and Cyrillic ranges
  String.raw`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`,  // UUID v4
  String.raw`((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)`,  // IPv4
  String.raw`[^\s"@]{1,10}@[a-z]{2,8}\.(com|org|net)`,  // negated class (any scalar value)
];

let server;
before(async () => {
  server = await startServer(["--max-concurrent-requests", "256",
    ...(haveTemplate ? ["--chat-template", TEMPLATE] : [])]);
});
after(async () => {
  const exit = await server.stop();
  assert.equal(exit.code, 0, `serve must exit 0 on SIGTERM:\n${server.log()}`);
});

// Runs `jobs` (async functions) CONCURRENCY at a time.
async function pool(jobs) {
  let next = 0;
  const workers = Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, async () => {
    while (next < jobs.length) await jobs[next++]();
  });
  await Promise.all(workers);
}

function sampled(seed, grammar, maxNewTokens = MAX_NEW_TOKENS) {
  return {
    inputs: "Answer in JSON:\n",
    parameters: { do_sample: true, temperature: 1.0, seed, max_new_tokens: maxNewTokens, details: true, grammar },
  };
}

test(`(a) ${schemaFiles.length} schemas x ${N} sampled outputs validate with ajv`, async (t) => {
  assert.ok(schemaFiles.length >= 15, `only ${schemaFiles.length} schema files`);
  const failures = [];
  const stats = new Map();
  const jobs = [];
  schemaFiles.forEach((file, s) => {
    const schema = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, file), "utf8"));
    const validate = ajv.compile(schema);
    const grammar = { type: "json", value: sendable(schema) };
    stats.set(file, { tokens: 0, distinct: new Set(), length: 0 });
    for (let i = 0; i < N; i++) {
      jobs.push(async () => {
        const r = await postJson(`${server.url}/generate`, sampled(1000 * s + i, grammar));
        const where = `${file} seed ${1000 * s + i}`;
        if (r.status !== 200) return failures.push(`${where}: HTTP ${r.status} ${r.text}`);
        const { generated_text: text, details } = r.json;
        stats.get(file).tokens += details.generated_tokens;
        stats.get(file).distinct.add(text);
        // The grammar keeps a sampled text completable within max_new_tokens, with room for EOS
        // before the last token: every sampled run ends with eos_token (only a greedy run cut
        // short by a budget too small for the grammar may end with `length`).
        if (details.finish_reason !== "eos_token") {
          return failures.push(`${where}: finish_reason ${details.finish_reason}: ${text}`);
        }
        if (details.generated_tokens >= MAX_NEW_TOKENS - 2) stats.get(file).length++;
        let value;
        try { value = JSON.parse(text); } catch (e) { return failures.push(`${where}: ${e.message}: ${text}`); }
        if (!validate(value)) failures.push(`${where}: ${ajv.errorsText(validate.errors)}: ${text}`);
      });
    }
  });
  const t0 = Date.now();
  await pool(jobs);
  for (const [file, st] of stats) {
    t.diagnostic(`${file}: ${N} outputs, ${st.distinct.size} distinct, ` +
      `${(st.tokens / N).toFixed(1)} tokens mean, ${st.length} closed by the budget`);
  }
  t.diagnostic(`${jobs.length} generations in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (process.env.STREAMGEN_GRAMMAR_FAILURES) {
    fs.writeFileSync(process.env.STREAMGEN_GRAMMAR_FAILURES, failures.join("\n"));
  }
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failures`);
});

test(`(b) ${REGEXES.length} regexes x ${N} sampled outputs match JavaScript's RegExp`, async (t) => {
  const failures = [];
  const jobs = [];
  REGEXES.forEach((re, k) => {
    const check = new RegExp(`^(?:${re})$`, "u");
    for (let i = 0; i < N; i++) {
      jobs.push(async () => {
        const r = await postJson(`${server.url}/generate`, sampled(50000 + 1000 * k + i, { type: "regex", value: re }, 128));
        const where = `/${re}/ seed ${50000 + 1000 * k + i}`;
        if (r.status !== 200) return failures.push(`${where}: HTTP ${r.status} ${r.text}`);
        const { generated_text: text, details } = r.json;
        if (details.finish_reason !== "eos_token") failures.push(`${where}: ${details.finish_reason}: ${text}`);
        else if (!check.test(text)) failures.push(`${where}: ${JSON.stringify(text)}`);
      });
    }
  });
  const t0 = Date.now();
  await pool(jobs);
  t.diagnostic(`${jobs.length} generations in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failures`);
});

test("(a) a greedy run cut short reports `length`, the only output that may not parse", async () => {
  const schema = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, "person.json"), "utf8"));
  const r = await postJson(`${server.url}/generate`, {
    inputs: "Answer in JSON:\n", parameters: { max_new_tokens: 3, details: true, grammar: { type: "json", value: schema } },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.details.finish_reason, "length");
  assert.equal(r.json.details.seed, null);
});

test(`(c) ${unsupported.length} unsupported keywords are each a 422 naming the keyword`, async () => {
  const keywords = new Set();
  for (const { keyword, schema } of unsupported) {
    // Wrapped when it has no top-level `properties`, else TGI's properties rule answers first.
    const value = "properties" in schema ? schema : { type: "object", properties: { x: schema } };
    const r = await postJson(`${server.url}/generate`, sampled(1, { type: "json", value }, 16));
    assert.equal(r.status, 422, `${keyword}: ${r.text}`);
    assert.equal(r.json.error_type, "validation");
    assert.ok(r.json.error.startsWith("Input validation error: grammar is not valid: "), r.json.error);
    assert.ok(r.json.error.includes(keyword), `${keyword} not named in: ${r.json.error}`);
    keywords.add(keyword);
  }
  assert.ok(keywords.size >= 10);
  // TGI's rule (kept): no top-level `properties`.
  const r = await postJson(`${server.url}/generate`, sampled(1, { type: "json", value: { type: "string" } }));
  assert.equal(r.status, 422);
  assert.equal(r.json.error, "Input validation error: grammar is not valid: Grammar must have a 'properties' field");
});

test("(c) an invalid regex is a 422 for that request alone; a concurrent stream finishes", async () => {
  const ac = new AbortController();
  const res = await fetch(`${server.url}/generate_stream`, {
    method: "POST", headers: { "content-type": "application/json" }, signal: ac.signal,
    body: JSON.stringify({ inputs: "ROMEO:", parameters: { max_new_tokens: 400, details: true, grammar: { type: "regex", value: "[a-z ]{300,360}" } } }),
  });
  const reader = res.body.getReader();
  const first = await reader.read();  // the stream is running
  assert.ok(!first.done);
  for (const bad of ["a(b", "(?<=a)b", "\\1(a)", "a{2,1}"]) {
    const r = await postJson(`${server.url}/generate`, sampled(2, { type: "regex", value: bad }, 8));
    assert.equal(r.status, 422, r.text);
    assert.ok(r.json.error.startsWith("Input validation error: grammar is not valid: "), r.json.error);
  }
  // In a stream, the same error arrives in-band (TGI's native streams answer 200).
  const s = await readSse(`${server.url}/generate_stream`, sampled(3, { type: "regex", value: "a(" }, 8));
  assert.equal(s.status, 200);
  assert.equal(s.events.length, 1);
  assert.equal(s.events[0].error_type, "validation");
  let text = new TextDecoder().decode(first.value);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const events = text.split("\n\n").filter((b) => b.startsWith("data: ")).map((b) => JSON.parse(b.slice(6)));
  const last = events.at(-1);
  assert.equal(last.details?.finish_reason, "eos_token", text);
  assert.match(last.generated_text, /^[a-z ]{300,360}$/);
});

test("(c) --disable-grammar-support refuses grammar, response_format and tools", async () => {
  const off = await startServer(["--disable-grammar-support",
    ...(haveTemplate ? ["--chat-template", TEMPLATE] : [])]);
  try {
    const refused = { error: "Input validation error: grammar is not supported", error_type: "validation" };
    const r = await postJson(`${off.url}/generate`, sampled(1, { type: "regex", value: "a" }, 4));
    assert.equal(r.status, 422);
    assert.deepEqual(r.json, refused);
    if (!haveTemplate) return;
    const messages = [{ role: "user", content: "hi" }];
    const rf = await postJson(`${off.url}/v1/chat/completions`, {
      messages, response_format: { type: "json", value: { properties: {} } },
    });
    assert.deepEqual([rf.status, rf.json], [422, refused]);
    const tools = await postJson(`${off.url}/v1/chat/completions`, { messages, tools: [WEATHER] });
    assert.deepEqual([tools.status, tools.json], [422, refused]);
  } finally {
    await off.stop();
  }
});

// --- (d) real clients.

const WEATHER_PARAMS = {
  type: "object",
  properties: {
    location: { type: "string", maxLength: 24 },
    unit: { type: "string", enum: ["celsius", "fahrenheit"] },
  },
  required: ["location", "unit"],
};
const WEATHER = {
  type: "function",
  function: { name: "get_weather", description: "Get the current weather", parameters: WEATHER_PARAMS },
};
const FORECAST = {
  type: "function",
  function: {
    name: "get_forecast", description: "Get a forecast",
    parameters: { type: "object", properties: { days: { type: "integer", minimum: 1, maximum: 14 } }, required: ["days"] },
  },
};
const PERSON = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, "person.json"), "utf8"));
const MESSAGES = [{ role: "user", content: "What is the weather in Verona?" }];
const openai = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });

// The tool call of a streamed chat (openai chunks): name, id, concatenated arguments.
function collectToolStream(chunks) {
  const out = { name: null, id: null, arguments: "", finish: [] };
  for (const c of chunks) {
    if (!c.choices.length) continue;
    const d = c.choices[0].delta;
    if (c.choices[0].finish_reason) out.finish.push(c.choices[0].finish_reason);
    assert.ok(d.tool_calls, `a content delta in a tool-call stream: ${JSON.stringify(c)}`);
    const call = d.tool_calls[0];
    out.name ??= call.function.name;
    out.id ??= call.id;
    out.arguments += call.function.arguments;
  }
  return out;
}

test("(d) openai: response_format json_schema (TGI's shape), streamed and not", chatOpts, async () => {
  const client = openai();
  const validate = ajv.compile(PERSON);
  const response_format = { type: "json_schema", value: { name: "person", schema: PERSON } };
  for (const seed of [1, 2, 3]) {
    const whole = await client.chat.completions.create({
      model: "tgi", messages: MESSAGES, response_format, seed, max_tokens: 400,
    });
    assert.equal(whole.choices[0].finish_reason, "stop");
    const value = JSON.parse(whole.choices[0].message.content);
    assert.ok(validate(value), ajv.errorsText(validate.errors));
    const stream = await client.chat.completions.create({
      model: "tgi", messages: MESSAGES, response_format, seed, max_tokens: 400, stream: true,
    });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? "";
    assert.deepEqual(JSON.parse(text), value);  // the same seed: the same object
  }
  // TGI's json type on chat too, and the rule that it excludes tools.
  const json = await client.chat.completions.create({
    model: "tgi", messages: MESSAGES, seed: 4, response_format: { type: "json", value: PERSON },
  });
  assert.ok(validate(JSON.parse(json.choices[0].message.content)));
  await assert.rejects(client.chat.completions.create({
    model: "tgi", messages: MESSAGES, response_format: { type: "json", value: PERSON }, tools: [WEATHER],
  }), (e) => e.status === 422 && /Grammar and tools are mutually exclusive/.test(e.message));
});

test("(d) openai: tools with tool_choice required and a named function, streamed and not", chatOpts, async () => {
  const client = openai();
  const validateWeather = ajv.compile(WEATHER_PARAMS);
  const validateForecast = ajv.compile(FORECAST.function.parameters);
  for (const [tool_choice, names] of [
    ["required", ["get_weather", "get_forecast"]],
    [{ type: "function", function: { name: "get_forecast" } }, ["get_forecast"]],
  ]) {
    for (const seed of [1, 2]) {
      const req = { model: "tgi", messages: MESSAGES, tools: [WEATHER, FORECAST], tool_choice, seed, max_tokens: 300 };
      const whole = await client.chat.completions.create(req);
      const message = whole.choices[0].message;
      assert.equal(whole.choices[0].finish_reason, "stop");
      assert.equal(message.content ?? null, null);
      assert.equal(message.tool_calls.length, 1);
      const call = message.tool_calls[0];
      assert.equal(call.id, "0");
      assert.equal(call.type, "function");
      assert.ok(names.includes(call.function.name), call.function.name);
      const args = JSON.parse(call.function.arguments);
      const validate = call.function.name === "get_weather" ? validateWeather : validateForecast;
      assert.ok(validate(args), `${ajv.errorsText(validate.errors)}: ${call.function.arguments}`);

      const chunks = [];
      for await (const c of await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } })) {
        chunks.push(c);
      }
      const usage = chunks.pop();
      assert.deepEqual(usage.choices, []);
      assert.ok(usage.usage.completion_tokens > 0);
      const streamed = collectToolStream(chunks);
      assert.equal(streamed.name, call.function.name);
      assert.equal(streamed.id, "0");
      assert.deepEqual(streamed.finish, []);  // TGI sends no finish_reason in a tool-call stream
      assert.deepEqual(JSON.parse(streamed.arguments), args);
    }
  }
});

test("(d) a streamed tool call's id follows earlier tool calls (TGI's rule)", chatOpts, async () => {
  const messages = [
    { role: "user", content: "Weather?" },
    { role: "assistant", tool_calls: [{ id: "4", type: "function", function: { name: "get_weather", arguments: { location: "Pisa", unit: "celsius" } } }] },
    { role: "tool", content: "21 degrees", tool_call_id: "4" },
    { role: "user", content: "And in Verona?" },
  ];
  const s = await readSse(`${server.url}/v1/chat/completions`,
    { messages, tools: [WEATHER], tool_choice: "required", seed: 1, max_tokens: 200, stream: true });
  assert.equal(s.status, 200);
  assert.equal(s.events.at(-1), "[DONE]");
  assert.equal(s.events[0].choices[0].delta.tool_calls[0].id, "5");
  assert.deepEqual(Object.keys(s.events[0].choices[0].delta), ["role", "tool_calls"]);
});

test("(d) tool_choice auto: `no_tool` runs again without tools (content, not tool_calls)", chatOpts, async () => {
  // The demo model mostly picks no_tool here; every answer must be well formed either way, and the
  // streamed no_tool answer (the second, unconstrained run) must be the non-streamed one.
  let contentAnswers = 0;
  for (const seed of [1, 2, 3, 4]) {
    const body = { messages: [{ role: "user", content: "Say hello." }], tools: [WEATHER], seed, max_tokens: 40 };
    const r = await postJson(`${server.url}/v1/chat/completions`, body);
    assert.equal(r.status, 200, r.text);
    const m = r.json.choices[0].message;
    const s = await readSse(`${server.url}/v1/chat/completions`, { ...body, stream: true });
    assert.equal(s.status, 200);
    assert.equal(s.events.at(-1), "[DONE]");
    if (m.tool_calls) {
      assert.equal(m.tool_calls[0].function.name, "get_weather");
      assert.ok(!("content" in m));
      continue;
    }
    contentAnswers++;
    assert.equal(typeof m.content, "string");
    assert.ok(r.json.usage.completion_tokens <= 40);
    const chunks = s.events.slice(0, -1);
    assert.ok(chunks.every((e) => "content" in e.choices[0].delta), JSON.stringify(chunks[0]));
    assert.equal(chunks.map((e) => e.choices[0].delta.content).join(""), m.content);
    assert.equal(chunks.at(-1).choices[0].finish_reason, r.json.choices[0].finish_reason);
  }
  assert.ok(contentAnswers > 0, "no seed made the model pick no_tool");
});

test("(d) @huggingface/inference chatCompletion with tools", chatOpts, async () => {
  const client = new InferenceClient().endpoint(server.url);
  const out = await client.chatCompletion({
    model: "tgi", messages: MESSAGES, tools: [WEATHER], tool_choice: "required", seed: 5, max_tokens: 300,
  });
  const call = out.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, "get_weather");
  const validate = ajv.compile(WEATHER_PARAMS);
  assert.ok(validate(JSON.parse(call.function.arguments)), call.function.arguments);
  let args = "";
  for await (const c of client.chatCompletionStream({
    model: "tgi", messages: MESSAGES, tools: [WEATHER], tool_choice: "required", seed: 5, max_tokens: 300,
  })) {
    args += c.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? "";
  }
  assert.deepEqual(JSON.parse(args), JSON.parse(call.function.arguments));
});

test("(d) the native grammar as huggingface_hub's text_generation(grammar=...) sends it", async () => {
  const validate = ajv.compile(PERSON);
  // huggingface_hub posts every parameter (nulls included) to the endpoint's root, `stream` beside.
  const parameters = (stream) => ({
    adapter_id: null, best_of: null, decoder_input_details: false, details: true, do_sample: true,
    frequency_penalty: null, grammar: { type: "json", value: PERSON }, max_new_tokens: 400,
    repetition_penalty: null, return_full_text: false, seed: 11, stop: [], temperature: null,
    top_k: null, top_n_tokens: null, top_p: null, truncate: null, typical_p: null, watermark: false,
  });
  const compat = await postJson(`${server.url}/`, { inputs: "Person:", parameters: parameters(false), stream: false });
  assert.equal(compat.status, 200, compat.text);
  const text = compat.json[0].generated_text;
  assert.ok(validate(JSON.parse(text)), text);
  const streamed = await readSse(`${server.url}/`, { inputs: "Person:", parameters: parameters(true), stream: true });
  assert.equal(streamed.events.at(-1).generated_text, text);
  const gen = await postJson(`${server.url}/generate`, { inputs: "Person:", parameters: parameters(false) });
  assert.equal(gen.json.generated_text, text);
  const gs = await readSse(`${server.url}/generate_stream`, { inputs: "Person:", parameters: parameters(true) });
  assert.equal(gs.events.at(-1).generated_text, text);
  assert.equal(gs.events.at(-1).details.finish_reason, "eos_token");
  // The value as a string holding the schema (TGI accepts both).
  const asString = await postJson(`${server.url}/generate`, {
    inputs: "Person:", parameters: { ...parameters(false), grammar: { type: "json", value: JSON.stringify(PERSON) } },
  });
  assert.equal(asString.json.generated_text, text);
});

test("(d) the OpenAPI document describes grammar support", async () => {
  const doc = await (await fetch(`${server.url}/api-doc/openapi.json`)).json();
  const grammar = doc.components.schemas.GenerateParameters.properties.grammar.description;
  assert.ok(!grammar.startsWith("Refused") && grammar.includes("json_schema"), grammar);
  assert.ok(!doc.info.description.includes("any `grammar` are refused"), doc.info.description);
});
