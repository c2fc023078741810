import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { VerifiedSignatures } from '../../src/trust/verified-signatures.ts';

const NOW = 1_800_000_000_000;
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const candidate = { key, source: 'cert:ci' };

test('a remembered JWT is found for the same key object and algorithm only', (t) => {
  const cache = new VerifiedSignatures();
  const digest = cache.digest('a.b.c');
  cache.remember(digest, key, 'ES256', NOW / 1000 + 300, NOW);
  t.is(cache.verifiedBy(digest, 'ES256', [candidate], NOW), candidate);
  t.is(cache.verifiedBy(digest, 'ES384', [candidate], NOW), undefined);
  t.is(cache.verifiedBy(digest, 'ES256', [{ key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, source: 'cert:ci' }], NOW), undefined);
  t.is(cache.verifiedBy(cache.digest('a.b.d'), 'ES256', [candidate], NOW), undefined);
});

test('an entry lasts until the JWT expires, ten minutes at most; an expired JWT is never remembered', (t) => {
  const cache = new VerifiedSignatures();
  const short = cache.digest('short');
  cache.remember(short, key, 'ES256', NOW / 1000 + 60, NOW);
  t.truthy(cache.verifiedBy(short, 'ES256', [candidate], NOW + 59_999));
  t.is(cache.verifiedBy(short, 'ES256', [candidate], NOW + 60_000), undefined);
  const long = cache.digest('long');
  cache.remember(long, key, 'ES256', NOW / 1000 + 86_400, NOW);
  t.truthy(cache.verifiedBy(long, 'ES256', [candidate], NOW + 599_999));
  t.is(cache.verifiedBy(long, 'ES256', [candidate], NOW + 600_000), undefined);
  const expired = cache.digest('expired');
  cache.remember(expired, key, 'ES256', NOW / 1000 - 1, NOW);
  t.is(cache.verifiedBy(expired, 'ES256', [candidate], NOW - 10_000), undefined);
});

test('the cache is bounded: beyond its size the oldest entry goes', (t) => {
  const cache = new VerifiedSignatures(2);
  const [a, b, c] = ['a', 'b', 'c'].map((token) => cache.digest(token)) as [string, string, string];
  for (const digest of [a, b, c]) cache.remember(digest, key, 'ES256', NOW / 1000 + 300, NOW);
  t.is(cache.verifiedBy(a, 'ES256', [candidate], NOW), undefined);
  t.truthy(cache.verifiedBy(b, 'ES256', [candidate], NOW));
  t.truthy(cache.verifiedBy(c, 'ES256', [candidate], NOW));
});

test('an entry in use outlives idle ones when the cache is full', (t) => {
  const cache = new VerifiedSignatures(2);
  const [a, b, c] = ['a', 'b', 'c'].map((token) => cache.digest(token)) as [string, string, string];
  cache.remember(a, key, 'ES256', NOW / 1000 + 300, NOW);
  cache.remember(b, key, 'ES256', NOW / 1000 + 300, NOW);
  t.truthy(cache.verifiedBy(a, 'ES256', [candidate], NOW));
  cache.remember(c, key, 'ES256', NOW / 1000 + 300, NOW);
  t.truthy(cache.verifiedBy(a, 'ES256', [candidate], NOW));
  t.is(cache.verifiedBy(b, 'ES256', [candidate], NOW), undefined);
  t.truthy(cache.verifiedBy(c, 'ES256', [candidate], NOW));
});

test('the digest stands for the JWT without holding it, and differs between processes', (t) => {
  const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
  const one = new VerifiedSignatures().digest(token);
  t.false(one.includes(token));
  t.not(one, new VerifiedSignatures().digest(token));
});
