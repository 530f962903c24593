// The Hugging Face side of the tokenizer benchmark: the same inputs as tokenizer_bench, encoded
// by npm `tokenizers` (Hugging Face's Rust library through its Node bindings), one thread, the
// whole text as one string, offsets computed (as ours always does).
//
// Usage: node tokenizer_bench_hf.mjs --data DIR [--tokenizers DIR] [--families a,b] [--runs N]
//                                    [--tsv]
// DIR holds english_1mb.txt and mixed_1mb.txt (bench/data/make_tokenizer_inputs.py writes them).
// --tsv prints `family input bytes tokens seconds MB/s` rows for bench/run_tokenizer_bench.sh.

// One thread: rayon is only used by batch calls, but pin it anyway so nothing helps behind our
// back. Set before the native module loads, which is when rayon reads them.
process.env.RAYON_NUM_THREADS = '1';
process.env.TOKENIZERS_PARALLELISM = 'false';

import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opt = {
    data: '',
    tokenizers: join(here, '..', '..', 'shared', 'refdata', 'tokenizers'),
    families: ['llama3', 'qwen3'],
    runs: 5,
    tsv: false,
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--tsv') opt.tsv = true;
    else if (a === '--data') opt.data = argv[++i];
    else if (a === '--tokenizers') opt.tokenizers = argv[++i];
    else if (a === '--families') opt.families = argv[++i].split(',');
    else if (a === '--runs') opt.runs = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opt.data || !(opt.runs > 0)) {
    throw new Error('usage: tokenizer_bench_hf.mjs --data DIR [--tokenizers DIR] ' +
                    '[--families a,b] [--runs N] [--tsv]');
  }
  return opt;
}

// The same list as tokenizer_bench.cc: name and text. The pathological rows repeat one character
// 10k/30k/100k times; their times should grow about linearly (x3, x10).
function inputs(dataDir) {
  const list = [
    ['english_1mb', readFileSync(join(dataDir, 'english_1mb.txt'), 'utf8')],
    ['mixed_1mb', readFileSync(join(dataDir, 'mixed_1mb.txt'), 'utf8')],
  ];
  const chars = [['a', 'a'], ['space', ' '], ['e_acute', '\u00e9'], ['emoji', '\u{1F600}']];
  for (const [label, ch] of chars) {
    for (const n of [10000, 30000, 100000]) list.push([`${label}_x${n / 1000}k`, ch.repeat(n)]);
  }
  return list;
}

async function bestSeconds(fn, runs) {
  await fn();  // warm-up: caches, allocator
  let best = Infinity;
  for (let i = 0; i < runs; ++i) {
    const t0 = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const list = inputs(opt.data);
  if (!opt.tsv) {
    console.log(`HF tokenizers ${require('tokenizers/package.json').version} (Node ` +
                `${process.version}), one thread, best of ${opt.runs}`);
    console.log('family   input             bytes   tokens     ms      MB/s');
  }
  for (const family of opt.families) {
    const tok = Tokenizer.fromFile(join(opt.tokenizers, family, 'tokenizer.json'));
    for (const [name, text] of list) {
      const bytes = Buffer.byteLength(text, 'utf8');
      let tokens = 0;
      const s = await bestSeconds(async () => {
        const enc = await tok.encode(text, null, { addSpecialTokens: false });
        tokens = enc.getLength();
      }, opt.runs);
      const mbs = bytes / s / 1e6;
      if (opt.tsv) {
        console.log([family, name, bytes, tokens, s.toFixed(6), mbs.toFixed(3)].join('\t'));
      } else {
        console.log(`${family.padEnd(8)} ${name.padEnd(14)} ${String(bytes).padStart(8)} ` +
                    `${String(tokens).padStart(8)} ${(s * 1e3).toFixed(2).padStart(8)} ` +
                    `${mbs.toFixed(2).padStart(8)}`);
      }
    }
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
