// Generates tokenizer_hf_offsets.jsonl: the offsets (in characters) that npm `tokenizers`
// (Hugging Face's Rust library) reports for every golden test string of every refdata family,
// special tokens added. Read by tokenizer_offsets_test.cc.
// Usage (from the repository root): node tests/text/tokenizer_hf_offsets.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'bench', 'package.json'));
const { Tokenizer } = require('tokenizers');
const ref = join(here, '..', '..', '..', 'shared', 'refdata');

const strings = readFileSync(join(ref, 'golden', 'test_strings.jsonl'), 'utf8')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l));
const out = [];
for (const fam of ['gpt2', 'llama3', 'qwen3', 'llama2', 'mistral']) {
  const tok = Tokenizer.fromFile(join(ref, 'tokenizers', fam, 'tokenizer.json'));
  for (const s of strings) {
    const enc = await tok.encode(s.text, null, { addSpecialTokens: true });
    out.push(JSON.stringify({ fam, id: s.id, offsets: enc.getOffsets() }));
  }
}
writeFileSync(join(here, 'tokenizer_hf_offsets.jsonl'), out.join('\n') + '\n');
console.log(`${out.length} rows`);
