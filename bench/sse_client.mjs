// The benchmarks' streaming client: one POST /generate_stream, read as SSE events.
//   streamGenerate(url, inputs, maxNewTokens, onToken) -> the final event (JSON)
// onToken(ms) is called with performance.now() at each event's arrival. Throws on a non-200.
export async function streamGenerate(url, inputs, maxNewTokens, onToken) {
  const r = await fetch(`${url}/generate_stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs, parameters: { max_new_tokens: maxNewTokens } }),
  });
  if (r.status !== 200) throw new Error(`status ${r.status}: ${await r.text()}`);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buf = "", last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      if (!block.startsWith("data:")) continue;
      last = JSON.parse(block.slice(5));
      onToken(performance.now());
    }
  }
  return last;
}
