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

// A TCP port that is free on 127.0.0.1 right now (the OS picks it; the listener is closed again).
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address();
  srv.close();
  await once(srv, "close");
  return port;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The sanitizer build is several times slower: time limits are multiplied by SLOW.
export const ASAN = (process.env.STREAMGEN_BIN ?? "").includes("asan");
export const SLOW = ASAN ? 3 : 1;

// GET /health through fetch; true when it answers 200.
async function fetchHealthy(port) {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).status === 200;
  } catch {
    return false;  // not listening yet
  }
}

// Starts the server with extra flags; resolves once healthy(port) is true (by default: /health
// answers 200 through fetch). `wrap` runs the binary through another command that ends in exec,
// e.g. ["sh", "-c", 'ulimit -n 64; exec "$0" "$@"'] to start it under a lower limit.
export async function startServer(extraArgs = [],
  { model = demoModel, env = {}, wrap = [], healthy = fetchHealthy } = {}) {
  const port = await freePort();
  const args = ["serve", "--model-id", model, "--hostname", "127.0.0.1", "--port", String(port),
    ...extraArgs];
  const [command, ...argv] = [...wrap, binary, ...args];
  const proc = spawn(command, argv, {
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
    if (await healthy(port)) break;
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
