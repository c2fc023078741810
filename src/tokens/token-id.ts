import { randomFillSync } from 'node:crypto';

const ID_BYTES = 16;
/** Random bytes fetched ahead for 256 ids: one call into the CSPRNG instead of one per token. */
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

/** A token id (jti): 128 random bits, base64url. */
export function newTokenId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
