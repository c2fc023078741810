import test from 'ava';
import { randomBytes } from 'node:crypto';
import { decryptPrivateKey, encryptPrivateKey } from '../../src/keys/encryption.ts';

const kek = randomBytes(32);
const PLAINTEXT = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPretendThisIsAKeyxxxxxxxxxxxxxxxxxxxxxxxxx\n-----END PRIVATE KEY-----\n';
const sealed = encryptPrivateKey(kek, 'kid-1', PLAINTEXT);

/** Replaces one base64url character of a part with another, keeping the length. */
function flip(part: string, index = 0): string {
  const c = part[index]!;
  return `${part.slice(0, index)}${c === 'A' ? 'B' : 'A'}${part.slice(index + 1)}`;
}

function withPart(index: number, change: (part: string) => string): string {
  const parts = sealed.split('.');
  parts[index] = change(parts[index]!);
  return parts.join('.');
}

test('a private key survives the round trip', (t) => {
  t.is(decryptPrivateKey(kek, 'kid-1', sealed), PLAINTEXT);
});

test('the sealed form is versioned, dot-separated base64url and does not contain the plaintext', (t) => {
  t.regex(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
  t.false(sealed.includes('PRIVATE KEY'));
  t.false(sealed.includes(Buffer.from(PLAINTEXT).toString('base64url').slice(0, 20)));
});

test('encrypting twice gives different ciphertexts (fresh IV)', (t) => {
  const again = encryptPrivateKey(kek, 'kid-1', PLAINTEXT);
  t.not(again, sealed);
  t.not(again.split('.')[1], sealed.split('.')[1]);
  t.is(decryptPrivateKey(kek, 'kid-1', again), PLAINTEXT);
});

const REFUSED: [string, () => string][] = [
  ['another key-encryption key', () => decryptPrivateKey(randomBytes(32), 'kid-1', sealed)],
  ['a ciphertext moved to another kid', () => decryptPrivateKey(kek, 'kid-2', sealed)],
  ['a tampered ciphertext', () => decryptPrivateKey(kek, 'kid-1', withPart(3, (body) => flip(body, 5)))],
  ['a tampered authentication tag', () => decryptPrivateKey(kek, 'kid-1', withPart(2, (tag) => flip(tag, 3)))],
  ['a tampered IV', () => decryptPrivateKey(kek, 'kid-1', withPart(1, (iv) => flip(iv, 2)))],
  ['a truncated ciphertext', () => decryptPrivateKey(kek, 'kid-1', withPart(3, (body) => body.slice(0, -4)))],
];

for (const [name, attempt] of REFUSED) {
  test(`${name} does not decrypt`, (t) => {
    t.throws(attempt, { message: /signing key kid-\d cannot be decrypted/ });
  });
}

test('an unknown format is refused with a clear message', (t) => {
  for (const bad of ['', 'v2.a.b.c', sealed.replace(/^v1\./, ''), 'v1.a.b', 'not encrypted at all']) {
    t.throws(() => decryptPrivateKey(kek, 'kid-1', bad), { message: /unknown encryption format/ }, JSON.stringify(bad));
  }
});

test('the error does not reveal the key-encryption key or the plaintext', (t) => {
  const error = t.throws(() => decryptPrivateKey(randomBytes(32), 'kid-1', sealed));
  t.false(error!.message.includes(kek.toString('base64')));
  t.false(error!.message.includes('PRIVATE KEY'));
});

test('a truncated authentication tag is refused', (t) => {
  const truncated = withPart(2, (tag) => Buffer.from(tag, 'base64url').subarray(0, 4).toString('base64url'));
  t.throws(() => decryptPrivateKey(kek, 'kid-1', truncated));
});
