// The messages the Node peers send: text and binary of each size, from a seeded generator so
// that a failure can be replayed (PEERS_SEED). Text is JSON-like (records with repeating keys
// and values, some of them non-ASCII), so it compresses and has matches at many distances;
// binary is random, so it does not compress.

export const SIZES = [0, 1, 100, 64 << 10, 1 << 20, 16 << 20];

/** A 32-bit PRNG (mulberry32): the same seed gives the same bytes. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** `n` random bytes. */
export function randomBinary(next, n) {
  const out = Buffer.alloc(n);
  let i = 0;
  for (; i + 4 <= n; i += 4) out.writeUInt32LE(next(), i);
  for (; i < n; i++) out[i] = next() & 0xff;
  return out;
}

const USERS = ['alice', 'bob', 'carol', 'dmitri', 'eléonore', 'fumiko', '雪', 'zoë'];
const WORDS = ['ping', 'latency', 'frame', 'window', 'deflate', 'héllo', 'naïve', '🙂', 'ok'];

/** JSON-like UTF-8 text of exactly `n` bytes (cut at a character boundary, padded). */
export function jsonText(next, n) {
  const parts = ['['];
  let length = 1;
  for (let id = 0; length < n + 64; id++) {
    const words = Array.from({ length: 1 + (next() % 6) }, () => WORDS[next() % WORDS.length]);
    const record =
      `{"id":${id},"user":"${USERS[next() % USERS.length]}","score":${(next() % 100000) / 100},` +
      `"text":"${words.join(' ')}","seen":${next() % 2 === 0}},\n`;
    parts.push(record);
    length += Buffer.byteLength(record);
  }
  const bytes = Buffer.from(parts.join(''));
  let end = n;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // not inside a character
  const out = Buffer.alloc(n, 0x20);
  bytes.copy(out, 0, 0, end);
  return out;
}

/** Every message of the check, in order: `{ what, data, binary }`. */
export function messages(seed) {
  const next = prng(seed);
  const list = [];
  for (const n of SIZES) list.push({ what: `binary of ${n} B`, data: randomBinary(next, n), binary: true });
  for (const n of SIZES) list.push({ what: `text of ${n} B`, data: jsonText(next, n), binary: false });
  return list;
}
