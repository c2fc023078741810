import test from 'ava';
import { VerifiedSecretCache } from '../../src/secrets/verified-cache.ts';

const T0 = 1_700_000_000_000;

test('a remembered secret is a hit for the same credential', (t) => {
  const cache = new VerifiedSecretCache(60_000);
  cache.remember('app:billing', 'secret-1', T0);
  t.true(cache.has('app:billing', 'secret-1', T0 + 1));
});

const MISSES: [string, string, string][] = [
  ['another credential presenting the same secret', 'app:other', 'secret-1'],
  ['the same credential presenting another secret', 'app:billing', 'secret-2'],
  ['the same credential with a prefix of the secret', 'app:billing', 'secret-'],
  ['the same credential with the empty secret', 'app:billing', ''],
];

for (const [name, credential, secret] of MISSES) {
  test(`a miss for ${name}`, (t) => {
    const cache = new VerifiedSecretCache(60_000);
    cache.remember('app:billing', 'secret-1', T0);
    t.false(cache.has(credential, secret, T0 + 1));
  });
}

test('nothing is a hit in an empty cache', (t) => {
  t.false(new VerifiedSecretCache(60_000).has('app:billing', 'secret-1', T0));
});

test('clear() drops every entry', (t) => {
  const cache = new VerifiedSecretCache(60_000);
  cache.remember('app:a', 'secret-a', T0);
  cache.remember('app:b', 'secret-b', T0);
  cache.clear();
  t.false(cache.has('app:a', 'secret-a', T0));
  t.false(cache.has('app:b', 'secret-b', T0));
});

test('an entry is a hit until just before its expiry and a miss from then on', (t) => {
  const cache = new VerifiedSecretCache(1000);
  cache.remember('app:billing', 'secret-1', T0);
  t.true(cache.has('app:billing', 'secret-1', T0 + 999));
  t.false(cache.has('app:billing', 'secret-1', T0 + 1000));
  // an expired entry is gone for good, even when asked with an earlier clock
  t.false(cache.has('app:billing', 'secret-1', T0));
});

test('remembering again extends the lifetime', (t) => {
  const cache = new VerifiedSecretCache(1000);
  cache.remember('app:billing', 'secret-1', T0);
  cache.remember('app:billing', 'secret-1', T0 + 900);
  t.true(cache.has('app:billing', 'secret-1', T0 + 1500));
});

test('a secret remembered for another credential replaces the earlier credential', (t) => {
  const cache = new VerifiedSecretCache(60_000);
  cache.remember('app:a', 'shared', T0);
  cache.remember('app:b', 'shared', T0);
  t.false(cache.has('app:a', 'shared', T0));
  t.true(cache.has('app:b', 'shared', T0));
});

test('a TTL of zero disables the cache', (t) => {
  const cache = new VerifiedSecretCache(0);
  cache.remember('app:billing', 'secret-1', T0);
  t.false(cache.has('app:billing', 'secret-1', T0));
});

test('the cache is bounded: a new entry beyond the limit evicts the oldest', (t) => {
  const cache = new VerifiedSecretCache(60_000, 3);
  for (const n of [1, 2, 3, 4]) cache.remember(`app:${n}`, `secret-${n}`, T0 + n);
  t.false(cache.has('app:1', 'secret-1', T0 + 10));
  for (const n of [2, 3, 4]) t.true(cache.has(`app:${n}`, `secret-${n}`, T0 + 10), `app:${n}`);
  cache.remember('app:5', 'secret-5', T0 + 5);
  t.false(cache.has('app:2', 'secret-2', T0 + 10));
  for (const n of [3, 4, 5]) t.true(cache.has(`app:${n}`, `secret-${n}`, T0 + 10), `app:${n}`);
});

test('the secret itself is not kept in the cache', (t) => {
  const cache = new VerifiedSecretCache(60_000);
  const secret = 'tmcs_abcdefghijkmnpqr_' + 'S'.repeat(43);
  cache.remember('app:billing', secret, T0);
  const entries = (cache as unknown as { entries: Map<string, unknown> }).entries;
  t.false(JSON.stringify([...entries]).includes(secret));
  t.false([...entries.keys()].some((k) => k.includes('SSSS')));
});

test('knows() tells whether a secret is a live hit for a credential of the given name, whatever its hash', (t) => {
  const cache = new VerifiedSecretCache(1000);
  cache.remember('client:billing#hash', 'secret-1', T0);
  t.true(cache.knows('secret-1', 'client:billing', T0 + 1));
  t.false(cache.knows('secret-2', 'client:billing', T0 + 1));
  t.false(cache.knows('secret-1', 'client:other', T0 + 1), 'the same secret presented for another client is a stranger');
  t.false(cache.knows('secret-1', 'client:bill', T0 + 1), 'a prefix of the name is another name');
  t.false(cache.knows('secret-1', 'client:billing', T0 + 1000), 'not after the entry lapsed');
});

test('a secret stays recent for its credential for a day after its entry lapsed, so its next verification goes first', (t) => {
  const cache = new VerifiedSecretCache(1000);
  cache.remember('client:billing#hash', 'secret-1', T0);
  t.true(cache.isRecent(cache.digest('secret-1'), 'client:billing', T0 + 60_000));
  t.false(cache.isRecent(cache.digest('secret-1'), 'client:other', T0 + 60_000));
  t.false(cache.has('client:billing#hash', 'secret-1', T0 + 60_000));
  t.false(cache.isRecent(cache.digest('secret-1'), 'client:billing', T0 + 86_400_000));
  t.false(cache.isRecent(cache.digest('never-verified'), 'client:billing', T0));
});
