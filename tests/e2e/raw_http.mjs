// Raw-socket HTTP/1.1 for the end-to-end tests that must see the exact bytes on the wire (framing,
// what follows an answer, EOF versus reset), which fetch hides.
import net from "node:net";
import { SLOW } from "./server.mjs";

// Parses one HTTP response from `text` (latin1) at `start`. Returns null while incomplete,
// {error} when the framing is broken, else {status, statusLine, head, headers, header(), body
// (latin1, chunks joined), chunked, end}. With `eof` the peer has closed: what is still missing
// becomes an error, and a response with neither length nor chunking ends at the end of `text`.
export function parseResponse(text, start = 0, eof = false) {
  const headEnd = text.indexOf("\r\n\r\n", start);
  if (headEnd < 0) {
    return eof && text.length > start ? { error: `truncated head: ${JSON.stringify(text.slice(start, start + 200))}` } : null;
  }
  const head = text.slice(start, headEnd + 4);
  const lines = text.slice(start, headEnd).split("\r\n");
  const statusLine = lines[0];
  const m = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/.exec(statusLine);
  if (!m) return { error: `bad status line ${JSON.stringify(statusLine.slice(0, 100))}` };
  const headers = lines.slice(1).map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
  });
  const header = (n) => headers.find((h) => h[0] === n)?.[1];
  const base = { status: Number(m[1]), statusLine, head, headers, header };
  let pos = headEnd + 4;
  if (/chunked/i.test(header("transfer-encoding") ?? "")) {
    let body = "";
    for (;;) {
      const le = text.indexOf("\r\n", pos);
      if (le < 0) return eof ? { error: `truncated chunk size line at ${pos} (body so far ends ${JSON.stringify(body.slice(-120))})` } : null;
      const sizeLine = text.slice(pos, le);
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeLine)) {
        return { error: `bad chunk size line ${JSON.stringify(sizeLine.slice(0, 40))}` };
      }
      const size = parseInt(sizeLine, 16);
      pos = le + 2;
      if (size === 0) {
        if (text.length < pos + 2) return eof ? { error: "truncated after the zero-length chunk" } : null;
        if (text.slice(pos, pos + 2) !== "\r\n") return { error: "trailer or garbage after the zero-length chunk" };
        pos += 2;
        return { ...base, body, chunked: true, end: pos };
      }
      if (text.length < pos + size + 2) {
        return eof ? { error: `truncated chunk of ${size} bytes (body so far ends ${JSON.stringify(body.slice(-120))})` } : null;
      }
      if (text.slice(pos + size, pos + size + 2) !== "\r\n") return { error: "chunk data not followed by CRLF" };
      body += text.slice(pos, pos + size);
      pos += size + 2;
    }
  }
  const cl = header("content-length");
  if (cl !== undefined) {
    const n = Number(cl);
    if (text.length < pos + n) return eof ? { error: `truncated body: ${text.length - pos} of ${n} bytes` } : null;
    return { ...base, body: text.slice(pos, pos + n), chunked: false, end: pos + n };
  }
  if (!eof) return null;
  return { ...base, body: text.slice(pos), chunked: false, end: text.length };
}

// A client socket to 127.0.0.1:port that records everything: the bytes (latin1), EOF, the first
// error (and whether it followed a write flagged `lateWrite`, i.e. one sent after the server may
// have closed), close, and when each happened. `name` labels it in failure messages.
export class RawConn {
  constructor(port, name = "") {
    this.name = name;
    this.text = "";
    this.pos = 0;  // response() has parsed up to here
    this.ended = false;
    this.closed = false;
    this.error = null;
    this.lateWrite = false;
    this.errorAfterLateWrite = false;
    this.t0 = performance.now();
    this.waiters = new Set();
    this.sock = net.connect(port, "127.0.0.1");
    this.connected = new Promise((res) => {
      this.sock.once("connect", () => res(true));
      this.sock.once("error", () => res(false));
    });
    this.sock.on("data", (d) => { this.text += d.toString("latin1"); this.dataAt = performance.now(); this.wake(); });
    this.sock.on("end", () => { this.ended = true; this.endAt = performance.now(); this.wake(); });
    this.sock.on("error", (e) => {
      if (!this.error) { this.error = e; this.errorAfterLateWrite = this.lateWrite; }
      this.wake();
    });
    this.sock.on("close", () => { this.closed = true; this.closeAt = performance.now(); this.wake(); });
  }
  wake() { for (const w of [...this.waiters]) w(); }
  // Resolves true once pred() holds, false after ms.
  until(pred, ms) {
    return new Promise((resolve) => {
      if (pred()) return resolve(true);
      const check = () => { if (pred()) done(true); };
      const done = (v) => { this.waiters.delete(check); clearTimeout(timer); resolve(v); };
      const timer = setTimeout(() => done(pred()), ms);
      this.waiters.add(check);
    });
  }
  // Sends a latin1 string or a Buffer; false (nothing sent) once the connection is over.
  write(bytes) {
    if (this.ended || this.closed || this.sock.destroyed || this.sock.writableEnded) return false;
    this.sock.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
    return true;
  }
  // The next complete response on this connection; throws when none arrives within ms.
  async response(ms = 10000 * SLOW) {
    let r = null;
    await this.until(() => (r = parseResponse(this.text, this.pos, this.ended || this.closed)) !== null || this.closed, ms);
    if (!r || r.error) {
      throw new Error(`no complete response within ${ms} ms (${r?.error ?? "incomplete"}; ended=${this.ended}, ` +
        `closed=${this.closed}, error=${this.error?.code}); got ${JSON.stringify(this.text.slice(this.pos, this.pos + 300))}`);
    }
    this.pos = r.end;
    return r;
  }
  waitClosed(ms) { return this.until(() => this.closed, ms); }
  destroy() { this.sock.destroy(); }
  // A one-line state for failure messages.
  how() { return `${this.text.length} bytes, EOF=${this.ended}, error=${this.error?.code ?? null}`; }
}
