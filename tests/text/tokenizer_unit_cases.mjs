// Generates tokenizer_unit_cases.json: small hand-written tokenizer.json configs (one pipeline
// component under test each) with the encodings and decodings of npm `tokenizers` (Hugging
// Face's Rust library). Offsets are in characters, as the bindings report them.
// Usage (from the repository root): node tests/text/tokenizer_unit_cases.mjs
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'bench', 'package.json'));
const { Tokenizer } = require('tokenizers');

const wl = (words) => ({
  type: 'WordLevel',
  vocab: Object.fromEntries(['[UNK]', ...words].map((w, i) => [w, i])),
  unk_token: '[UNK]',
});
const tk = (model, extra = {}) => ({
  version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: null, post_processor: null, decoder: null, model, ...extra,
});
const added = (id, content, o = {}) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false,
  special: false, ...o,
});

const cases = [];
const add = (name, tokenizer, inputs, decodes = []) => cases.push({ name, tokenizer, inputs, decodes });

// Split: every behavior, both pattern kinds, with and without invert.
for (const behavior of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
  for (const invert of [false, true]) {
    add(`split_string_${behavior}_${invert}`,
        tk(wl(['a', 'b', '-', 'a-', '-b']), { pre_tokenizer: { type: 'Split', pattern: { String: '-' }, behavior, invert } }),
        ['a-b--c-', '-a-b', '']);
    add(`split_regex_${behavior}_${invert}`,
        tk(wl(['12', 'x']), { pre_tokenizer: { type: 'Split', pattern: { Regex: '\\d+' }, behavior, invert } }),
        ['x12y345z6', '42']);
  }
}
for (const scheme of ['always', 'first', 'never']) {
  for (const split of [true, false]) {
    add(`metaspace_${scheme}_${split}`,
        tk(wl(['▁Hey', '▁friend!', '▁', 'Hey', '▁a']), {
          added_tokens: [added(6, '<x>', { special: true })],
          pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split },
          decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split },
        }),
        ['Hey  friend!', ' lead', '<x> a b', 'a<x>Hey'],
        [[1, 2], [2, 1], [4, 3], [6, 1, 5]]);
  }
}
for (const individual of [true, false]) {
  add(`digits_${individual}`, tk(wl(['1', '12', 'abc ']), { pre_tokenizer: { type: 'Digits', individual_digits: individual } }),
      ['abc 1234 x56', '٣٤5']);
}
const words = ['Hello', ',', 'world', '!', 'it', "'", 's', 'ok', '?', "it's"];
add('whitespace', tk(wl(words), { pre_tokenizer: { type: 'Whitespace' } }), ["Hello, world! it's  ok?", ' \t x_y1 ']);
add('whitespace_split', tk(wl(words), { pre_tokenizer: { type: 'WhitespaceSplit' } }), ["Hello, world! it's \u3000 ok?"]);
for (const behavior of ['Isolated', 'Removed', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
  add(`punctuation_${behavior}`, tk(wl(words), { pre_tokenizer: { type: 'Punctuation', behavior } }), ["Hello,, world!¿ it's?"]);
}
add('bert_pre_tokenizer', tk(wl(words), { pre_tokenizer: { type: 'BertPreTokenizer' } }), ["Hello, world! it's ok?"]);
add('char_delimiter', tk(wl(['a', 'b']), { pre_tokenizer: { type: 'CharDelimiterSplit', delimiter: '-' } }), ['a-b--c']);
add('byte_level_prefix', tk(wl(['Ġhello', 'Ġworld']), { pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true } }),
    ['hello world', ' hello  world']);
add('byte_level_noregex', tk(wl(['Ġhello', 'ĠhelloĠworld']), { pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: false } }),
    ['hello world']);

// Normalizers, observed through which words the WordLevel vocabulary recognizes.
const ws = { type: 'WhitespaceSplit' };
add('lowercase', tk(wl(['hello', 'straße', 'ωμέγα']), { normalizer: { type: 'Lowercase' }, pre_tokenizer: ws }), ['HeLLo STRAßE ΩΜΈΓΑ']);
add('nfkc', tk(wl(['fi', '1', 'A', 'é']), { normalizer: { type: 'NFKC' }, pre_tokenizer: ws }), ['ﬁ ① Ａ e\u0301']);
add('nfd_strip_accents', tk(wl(['cafe', 'naive']), { normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }] }, pre_tokenizer: ws }), ['café naïve']);
add('nfkd', tk(wl(['fi', 'e\u0301']), { normalizer: { type: 'NFKD' }, pre_tokenizer: ws }), ['ﬁ é']);
add('strip', tk(wl(['a b', 'a']), { normalizer: { type: 'Strip', strip_left: true, strip_right: true } }), ['  a b \n', ' a']);
add('strip_left', tk(wl(['a b ', 'a']), { normalizer: { type: 'Strip', strip_left: true, strip_right: false } }), ['  a b ']);
add('replace_regex', tk(wl(['a b c']), { normalizer: { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' } }), ['a \t b\n\nc']);
add('prepend_replace', tk(wl(['▁a▁b', '▁']), { normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] } }), ['a b', ' ', '']);

// Models.
add('bpe_affixes', tk({
  type: 'BPE', dropout: null, unk_token: '[UNK]', continuing_subword_prefix: '##', end_of_word_suffix: '</w>',
  fuse_unk: true, byte_fallback: false,
  vocab: { '[UNK]': 0, 'a': 1, '##b': 2, '##c</w>': 3, 'ab': 4, 'abc</w>': 5, 'a</w>': 6, '##b</w>': 7 },
  merges: ['a ##b', 'ab ##c</w>'],
}, { pre_tokenizer: ws }), ['abc ab a axyb xy']);
add('bpe_byte_fallback', tk({
  type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
  fuse_unk: true, byte_fallback: true,
  vocab: { '<unk>': 0, '<0xC3>': 1, '<0xA9>': 2, 'h': 3, 'i': 4, 'hi': 5, '▁': 6, '<0x41>': 7 },
  merges: [['h', 'i']],
}, { decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] } }),
    ['hié', 'hi€A'], [[5, 1, 2], [1, 5], [7, 1, 3]]);
add('bpe_ignore_merges', tk({
  type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
  fuse_unk: false, byte_fallback: false, ignore_merges: true,
  vocab: { 'a': 0, 'b': 1, 'c': 2, 'ab': 3, 'abc': 4, 'bc': 5 },
  merges: ['b c', 'a b'],
}, { pre_tokenizer: ws }), ['abc ab bc cab']);
add('unigram', tk({
  type: 'Unigram', unk_id: 0, byte_fallback: false,
  vocab: [['<unk>', 0], ['▁', -1], ['a', -2], ['b', -2], ['ab', -2.5], ['▁ab', -3], ['c', -4], ['abc', -8]],
}, { pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true } }), ['ab abc xyz ab', 'cab']);
add('unigram_byte_fallback', tk({
  type: 'Unigram', unk_id: 0, byte_fallback: true,
  vocab: [['<unk>', 0], ['a', -1], ['<0xC3>', -5], ['<0xA9>', -5]],
}), ['aéaz']);
add('wordpiece', tk({
  type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 8,
  vocab: { '[UNK]': 0, 'un': 1, '##aff': 2, '##able': 3, 'a': 4, '##b': 5, '.': 6 },
}, { pre_tokenizer: { type: 'BertPreTokenizer' }, decoder: { type: 'WordPiece', prefix: '##', cleanup: true } }),
    ['unaffable ab. abx unaffableunaffable'], [[1, 2, 3, 4, 5, 6], [4, 6, 0]]);

// Added tokens: lstrip / rstrip / single_word / normalized, longest match, skip special.
add('added_tokens', tk(wl(['a', 'b', 'ab']), {
  added_tokens: [
    added(10, '<L>', { lstrip: true, special: true }), added(11, '<R>', { rstrip: true }),
    added(12, 'ab', { single_word: true }), added(13, '<LR>', { lstrip: true, rstrip: true, special: true }),
    added(14, '<L', {}), added(15, 'hey', { normalized: true }),
  ],
  normalizer: { type: 'Lowercase' }, pre_tokenizer: ws,
  decoder: null,
}), ['a  <L>  b', 'x <R>  y', 'ab xab ab', 'q <LR>  z', '<Lz', 'HEY Hey'], [[3, 10, 11, 13, 1], [13]]);

// Post-processors (add_special_tokens) and decoders.
add('roberta', tk(wl(['<s>', '</s>', 'a']), {
  pre_tokenizer: ws, post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 1], trim_offsets: true, add_prefix_space: true },
}), ['a a']);
add('bert', tk(wl(['[CLS]', '[SEP]', 'a']), {
  pre_tokenizer: ws, post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] },
}), ['a a']);
add('template_sequence', tk(wl(['<s>', '</s>', 'a']), {
  pre_tokenizer: ws, post_processor: { type: 'Sequence', processors: [
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } },
  ] },
}), ['a']);
// trim_offsets: ByteLevel and Roberta post-processors drop the spaces of a token from its offsets.
for (const aps of [false, true]) {
  const blv = { type: 'ByteLevel', add_prefix_space: aps, trim_offsets: true, use_regex: true };
  add(`byte_level_trim_${aps}`, tk(wl(['hello', 'Ġhello', 'Ġworld', 'Ġ', 'ĠĠ']), { pre_tokenizer: blv, post_processor: blv }),
      ['hello  world ', ' hello', '  hello']);
  add(`roberta_trim_${aps}`, tk(wl(['<s>', '</s>', 'hello', 'Ġhello', 'Ġworld', 'Ġ']), {
    pre_tokenizer: blv,
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 1], trim_offsets: true, add_prefix_space: aps },
  }), ['hello  world ', ' hello']);
}
add('decoders_strip_replace', tk(wl(['__a__', '_b', 'c_']), {
  decoder: { type: 'Sequence', decoders: [{ type: 'Strip', content: '_', start: 1, stop: 2 }, { type: 'Replace', pattern: { String: '_' }, content: '-' }] },
}), [], [[1, 2, 3], [3]]);
add('decoder_replace_regex', tk(wl(['a1b22', 'c']), {
  decoder: { type: 'Replace', pattern: { Regex: '\\d+' }, content: '#' },
}), [], [[1, 2]]);
add('decoder_bpe_suffix', tk(wl(['hel', 'lo</w>', 'w</w>']), { decoder: { type: 'BPEDecoder', suffix: '</w>' } }), [], [[1, 2, 3]]);
add('no_decoder', tk(wl(['a', 'b'])), [], [[1, 2, 0]]);

const out = [];
for (const c of cases) {
  const tok = Tokenizer.fromString(JSON.stringify(c.tokenizer));
  const inputs = [];
  for (const text of c.inputs) {
    const plain = await tok.encode(text, null, { addSpecialTokens: false });
    const special = await tok.encode(text, null, { addSpecialTokens: true });
    inputs.push({ text, ids: plain.getIds(), offsets: plain.getOffsets(), ids_special: special.getIds() });
  }
  const decodes = [];
  for (const ids of c.decodes) {
    decodes.push({ ids, text: await tok.decode(ids, false), text_skip: await tok.decode(ids, true) });
  }
  out.push({ name: c.name, tokenizer: c.tokenizer, inputs, decodes });
}
writeFileSync(join(here, 'tokenizer_unit_cases.json'), JSON.stringify(out, null, 1) + '\n');
console.log(`${out.length} cases`);
