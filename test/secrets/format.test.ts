import test from 'ava';
import { generateSecret, newSecretId, parseSecret, type SecretKind } from '../../src/secrets/format.ts';

const KINDS: [SecretKind, string][] = [
  ['client-secret', 'tmcs'],
  ['app-password', 'tmap'],
];

for (const [kind, prefix] of KINDS) {
  test(`a generated ${kind} starts with ${prefix}_ and parses back to its kind and id`, (t) => {
    const { id, secret } = generateSecret(kind);
    t.true(secret.startsWith(`${prefix}_${id}_`));
    t.deepEqual(parseSecret(secret), { kind, id });
  });

  test(`a generated ${kind} carries 256 bits of randomness as 43 base64url characters`, (t) => {
    const { id, secret } = generateSecret(kind);
    const random = secret.slice(`${prefix}_${id}_`.length);
    t.regex(random, /^[A-Za-z0-9_-]{43}$/);
    t.is(Buffer.from(random, 'base64url').length, 32);
  });
}

test('secret ids are 16 characters from an alphabet without look-alikes', (t) => {
  for (let i = 0; i < 200; i++) t.regex(newSecretId(), /^[abcdefghijkmnpqrstuvwxyz23456789]{16}$/);
});

test('generated secrets and ids do not repeat', (t) => {
  const secrets = new Set<string>();
  const ids = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const { id, secret } = generateSecret('client-secret');
    secrets.add(secret);
    ids.add(id);
  }
  t.is(secrets.size, 500);
  t.is(ids.size, 500);
});

const valid = generateSecret('client-secret').secret;
const [, validId, validKey] = /^tmcs_([^_]{16})_(.{43})$/.exec(valid)!;

const MALFORMED: [string, string][] = [
  ['the empty string', ''],
  ['an unknown prefix', `tmxx_${validId}_${validKey}`],
  ['an upper-case prefix', `TMCS_${validId}_${validKey}`],
  ['no prefix', `${validId}_${validKey}`],
  ['an id one character short', `tmcs_${validId!.slice(1)}_${validKey}`],
  ['an id one character long', `tmcs_${validId}a_${validKey}`],
  ['an upper-case id', `tmcs_${validId!.toUpperCase()}_${validKey}`],
  ['an id with a 0 or 1', `tmcs_${'0'.repeat(8)}${'1'.repeat(8)}_${validKey}`],
  ['a key one character short', `tmcs_${validId}_${validKey!.slice(1)}`],
  ['a key one character long', `tmcs_${validId}_${validKey}A`],
  ['a key in standard base64', `tmcs_${validId}_${'+/'.repeat(21)}A`],
  ['a trailing newline', `${valid}\n`],
  ['leading whitespace', ` ${valid}`],
  ['trailing whitespace', `${valid} `],
  ['a missing separator', `tmcs${validId}_${validKey}`],
  ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
];

for (const [name, input] of MALFORMED) {
  test(`${name} parses to null`, (t) => {
    t.is(parseSecret(input), null);
  });
}
