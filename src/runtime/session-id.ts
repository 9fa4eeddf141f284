import { randomFillSync } from 'node:crypto';

/**
 * Random (version 4, RFC 9562) UUIDs for session ids, as flat strings. crypto.randomUUID()
 * returns a string built by some twenty concatenations, which V8 keeps as a tree of ~16 string
 * pieces (about 500 bytes) for as long as the id lives: a third of an idle session's heap.
 */
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const POOL_UUIDS = 128;
const pool = Buffer.alloc(16 * POOL_UUIDS);
let next = POOL_UUIDS;
const text = Buffer.alloc(36);

export function randomSessionId(): string {
  if (next === POOL_UUIDS) {
    randomFillSync(pool);
    next = 0;
  }
  const at = 16 * next++;
  pool[at + 6] = (pool[at + 6]! & 0x0f) | 0x40; // version 4
  pool[at + 8] = (pool[at + 8]! & 0x3f) | 0x80; // variant 10
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[o++] = 0x2d; // '-'
    const byte = pool[at + i]!;
    text[o++] = HEX[byte >> 4]!;
    text[o++] = HEX[byte & 0x0f]!;
  }
  return text.toString('latin1');
}
