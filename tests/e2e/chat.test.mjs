// The Messages API (/v1/chat/completions, /chat_tokenize) through real clients: the `openai`
// package (non-streamed, streamed, stream_options.include_usage) and @huggingface/inference 4.x
// (chatCompletion / chatCompletionStream), plus the raw SSE and JSON shapes. The bundled demo
// model's GGUF template is replaced by a real ChatML one with --chat-template; a second server on
// the demo's HF folder without its template answers TGI's "template not found".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import OpenAI from "openai";
import { InferenceClient } from "@huggingface/inference";
import { startServer, postJson, readSse, repoRoot } from "./server.mjs";

const TEMPLATE = path.join(repoRoot, "..", "shared", "refdata", "templates", "Qwen-QwQ-32B.jinja");
const haveTemplate = fs.existsSync(TEMPLATE);
const MESSAGES = [{ role: "user", content: "ROMEO:" }];
const CHUNK_KEYS = ["object", "id", "created", "model", "system_fingerprint", "choices", "usage"];

let server;
before(async () => {
  if (!haveTemplate) return;
  server = await startServer(["--max-concurrent-requests", "16", "--chat-template", TEMPLATE]);
});
after(async () => {
  if (!server) return;
  const exit = await server.stop();
  assert.equal(exit.code, 0, `serve must exit 0 on SIGTERM:\n${server.log()}`);
});

const opts = { skip: haveTemplate ? false : `no ${TEMPLATE}` };

test("raw non-streamed body: TGI's keys in order, the templated prompt counted", opts, async () => {
  const r = await postJson(`${server.url}/v1/chat/completions`,
    { model: "tgi", messages: MESSAGES, max_tokens: 6, temperature: 0 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.json),
    ["object", "id", "created", "model", "system_fingerprint", "choices", "usage"]);
  assert.equal(r.json.object, "chat.completion");
  assert.equal(r.json.id, "");
  assert.match(r.json.system_fingerprint, /-native$/);
  assert.deepEqual(Object.keys(r.json.choices[0]), ["index", "message", "logprobs", "finish_reason"]);
  assert.deepEqual(Object.keys(r.json.choices[0].message), ["role", "content"]);
  assert.equal(r.json.choices[0].finish_reason, "length");
  const t = await postJson(`${server.url}/chat_tokenize`, { messages: MESSAGES });
  assert.equal(t.status, 200, t.text);
  assert.equal(t.json.templated_text, "<|im_start|>user\nROMEO:<|im_end|>\n<|im_start|>assistant\n<think>\n</think>");
  assert.equal(r.json.usage.prompt_tokens, t.json.tokenize_response.length);
  assert.equal(r.json.usage.completion_tokens, 6);
  assert.equal(r.headers.get("x-prompt-tokens"), String(t.json.tokenize_response.length));
});

test("openai: chat.completions.create, streamed and not, with include_usage", opts, async () => {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const whole = await client.chat.completions.create({
    model: "tgi", messages: MESSAGES, max_tokens: 8, temperature: 0,
  });
  assert.equal(whole.object, "chat.completion");
  assert.equal(whole.choices.length, 1);
  assert.equal(whole.choices[0].message.role, "assistant");
  assert.equal(whole.choices[0].finish_reason, "length");
  assert.equal(whole.usage.completion_tokens, 8);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + 8);

  const stream = await client.chat.completions.create({
    model: "tgi", messages: MESSAGES, max_tokens: 8, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks.length, 9);  // one per token, then the usage chunk
  const content = chunks.slice(0, 8).map((c) => c.choices[0].delta.content).join("");
  assert.equal(content, whole.choices[0].message.content);
  chunks.slice(0, 8).forEach((c, i) => {
    assert.equal(c.object, "chat.completion.chunk");
    assert.equal(c.usage, null);
    assert.equal(c.choices[0].finish_reason, i === 7 ? "length" : null);
  });
  assert.deepEqual(chunks[8].choices, []);
  assert.deepEqual(chunks[8].usage, whole.usage);

  // Without include_usage: no usage chunk.
  const plain = await client.chat.completions.create({
    model: "tgi", messages: MESSAGES, max_tokens: 3, temperature: 0, stream: true,
  });
  let n = 0;
  for await (const c of plain) { n++; assert.equal(c.usage, null); }
  assert.equal(n, 3);
});

test("openai: a validation error arrives in-band and the client raises it", opts, async () => {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  await assert.rejects(client.chat.completions.create({ model: "tgi", messages: MESSAGES, top_p: 1.0 }),
    (e) => e.status === 422 && /`top_p` must be > 0.0 and < 1.0/.test(e.message));
  const s = await readSse(`${server.url}/v1/chat/completions`,
    { messages: MESSAGES, top_p: 1.0, stream: true });
  assert.equal(s.status, 200);
  assert.deepEqual(s.events, [
    { error: { message: "Input validation error: `top_p` must be > 0.0 and < 1.0", http_status_code: 422 } },
    "[DONE]",
  ]);
});

test("raw stream: chunk keys, logprobs shape, [DONE] last", opts, async () => {
  const s = await readSse(`${server.url}/v1/chat/completions`, {
    messages: MESSAGES, max_tokens: 4, temperature: 0, stream: true, logprobs: true, top_logprobs: 2,
  });
  assert.equal(s.status, 200);
  assert.match(s.headers.get("content-type"), /^text\/event-stream/);
  assert.equal(s.events.length, 5);
  assert.equal(s.events.at(-1), "[DONE]");
  for (const e of s.events.slice(0, 4)) {
    assert.deepEqual(Object.keys(e), CHUNK_KEYS);
    assert.deepEqual(Object.keys(e.choices[0]), ["index", "delta", "logprobs", "finish_reason"]);
    assert.deepEqual(Object.keys(e.choices[0].delta), ["role", "content"]);
    const lp = e.choices[0].logprobs.content;
    assert.equal(lp.length, 1);
    assert.deepEqual(Object.keys(lp[0]), ["token", "logprob", "top_logprobs"]);
    assert.ok(lp[0].top_logprobs.length >= 2);
    assert.ok(lp[0].logprob <= 0);
  }
});

test("@huggingface/inference 4.x chatCompletion and chatCompletionStream", opts, async () => {
  const client = new InferenceClient().endpoint(server.url);
  const out = await client.chatCompletion({ messages: MESSAGES, max_tokens: 8, temperature: 0 });
  assert.equal(out.choices[0].message.role, "assistant");
  assert.equal(out.usage.completion_tokens, 8);
  let streamed = "";
  let chunks = 0;
  for await (const chunk of client.chatCompletionStream({ messages: MESSAGES, max_tokens: 8, temperature: 0 })) {
    chunks++;
    streamed += chunk.choices[0]?.delta?.content ?? "";
  }
  assert.equal(chunks, 8);
  assert.equal(streamed, out.choices[0].message.content);
});

test("curl -N streams /v1/chat/completions (the README's example)", opts, async () => {
  const { stdout } = await promisify(execFile)("curl", ["-sN", `${server.url}/v1/chat/completions`,
    "-H", "Content-Type: application/json", "-d", JSON.stringify({
      model: "tgi", messages: [{ role: "user", content: "Who art thou?" }], max_tokens: 5,
      stream: true, stream_options: { include_usage: true },
    })]);
  const blocks = stdout.split("\n\n").filter((b) => b);
  assert.equal(blocks.length, 7);  // 5 tokens, usage, [DONE]
  assert.ok(blocks.every((b) => b.startsWith("data: ")));
  assert.equal(blocks.at(-1), "data: [DONE]");
  assert.deepEqual(JSON.parse(blocks.at(-2).slice(6)).choices, []);
});

test("template and tool errors are HTTP errors before a stream starts", opts, async () => {
  const r = await postJson(`${server.url}/v1/chat/completions`, {
    messages: MESSAGES, stream: true, tool_choice: "nope",
    tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
  });
  assert.equal(r.status, 422);
  assert.deepEqual(r.json, { error: "Tool error: Tool with name nope not found", error_type: "tool_error" });
});

test("no chat template: TGI's template_error", async () => {
  // The demo model's folder, minus the chat template in its tokenizer_config.json.
  const hf = path.join(repoRoot, "models", "demo", "hf");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sg-no-template-"));
  for (const f of ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"]) {
    fs.symlinkSync(path.join(hf, f), path.join(dir, f));
  }
  const config = JSON.parse(fs.readFileSync(path.join(hf, "tokenizer_config.json"), "utf8"));
  delete config.chat_template;
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(config));
  const bare = await startServer([], { model: dir });
  try {
    const r = await postJson(`${bare.url}/v1/chat/completions`, { messages: MESSAGES });
    assert.equal(r.status, 422);
    assert.deepEqual(r.json, { error: "Template error: template not found", error_type: "template_error" });
  } finally {
    await bare.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a chat template that does not compile stops the server at startup, naming it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sg-bad-template-"));
  const bad = path.join(dir, "bad.jinja");
  fs.writeFileSync(bad, "{% for m in messages %}{{ m.content }}");
  try {
    await assert.rejects(startServer(["--chat-template", bad]),
      (e) => /exited/.test(e.message) && e.message.includes(`chat template (--chat-template ${bad})`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
