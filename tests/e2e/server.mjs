// Starts a real `streamgen serve` for the end-to-end tests and talks to it over loopback.
//   STREAMGEN_BIN    the binary (default: build/src/cli/streamgen from the repository root)
//   STREAMGEN_E2E_MODEL  the model (default: the bundled demo model, models/demo/*.gguf)
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "..", "..");
export const binary =
  process.env.STREAMGEN_BIN ?? path.join(repoRoot, "build", "src", "cli", "streamgen");
export const demoModel =
  process.env.STREAMGEN_E2E_MODEL ?? path.join(repoRoot, "models", "demo", "shakespeare-q8_0.gguf");

async function freePort() {
  const srv = net.createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address();
  srv.close();
  await once(srv, "close");
  return port;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts the server with extra flags; resolves once /health answers 200.
export async function startServer(extraArgs = [], { model = demoModel, env = {} } = {}) {
  const port = await freePort();
  const args = ["serve", "--model-id", model, "--hostname", "127.0.0.1", "--port", String(port),
    ...extraArgs];
  const proc = spawn(binary, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  proc.stdout.on("data", (d) => { log += d; });
  proc.stderr.on("data", (d) => { log += d; });
  let exited = null;
  proc.on("exit", (code, signal) => { exited = { code, signal }; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (exited) throw new Error(`streamgen serve exited ${JSON.stringify(exited)}:\n${log}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`streamgen serve did not become healthy:\n${log}`);
    }
    await sleep(50);
  }
  return {
    url,
    port,
    proc,
    log: () => log,
    exited: () => exited,
    async stop(signal = "SIGTERM") {
      if (exited) return exited;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill("SIGKILL"), 30000);
      if (!exited) await once(proc, "exit");
      clearTimeout(t);
      return exited;
    },
    rssKiB() {
      const status = fs.readFileSync(`/proc/${proc.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
    },
  };
}

export async function postJson(url, body, headers = {}) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* plain-text error */ }
  return { status: r.status, headers: r.headers, text, json };
}

// Reads a whole SSE response; returns the parsed `data:` payloads (JSON, or the raw string).
export async function readSse(url, body, { signal, headers = {} } = {}) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal,
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, events: parseSse(text) };
}

export function parseSse(text) {
  const events = [];
  for (const block of text.split("\n\n")) {
    if (!block.startsWith("data: ")) continue;
    const payload = block.slice("data: ".length);
    try { events.push(JSON.parse(payload)); } catch { events.push(payload); }
  }
  return events;
}

// Prometheus text -> {name{labels}: value}.
export async function scrapeMetrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}
