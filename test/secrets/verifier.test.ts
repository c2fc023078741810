import test from 'ava';
import { generateSecret } from '../../src/secrets/format.ts';
import { SecretHasher } from '../../src/secrets/hasher.ts';
import { VerifiedSecretCache } from '../../src/secrets/verified-cache.ts';
import { SecretVerifier } from '../../src/secrets/verifier.ts';

const PARAMS = { memoryCost: 8192, timeCost: 1, parallelism: 1 };

async function setup(limits = { maxRunning: 2, maxWaiting: 4 }) {
  const hasher = new SecretHasher(PARAMS, limits);
  const verifier = new SecretVerifier(hasher, new VerifiedSecretCache(60_000));
  const { secret } = generateSecret('client-secret');
  return { hasher, verifier, secret, hash: await hasher.hash(secret) };
}

test('concurrent checks of the same secret against the same hash share one argon2 run', async (t) => {
  const { hasher, verifier, secret, hash } = await setup();
  const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verify('app:1', hash, secret)));
  t.is(hasher.verifications, 1);
  t.deepEqual([...new Set(results)], ['verified']);
  t.is(await verifier.verify('app:1', hash, secret), 'cached');
  t.is(hasher.verifications, 1);
});

test('50 concurrent checks of one secret fit in a queue of 4: none is refused', async (t) => {
  const { verifier, secret, hash } = await setup({ maxRunning: 1, maxWaiting: 1 });
  const results = await Promise.allSettled(Array.from({ length: 50 }, () => verifier.verify('app:1', hash, secret)));
  t.true(results.every((r) => r.status === 'fulfilled'));
});

test('a changed hash (rotation, re-hash) never hits an entry made for the old one', async (t) => {
  const { hasher, verifier, secret, hash } = await setup();
  t.is(await verifier.verify('app:1', hash, secret), 'verified');
  const rotated = generateSecret('client-secret');
  t.is(await verifier.verify('app:1', await hasher.hash(rotated.secret), secret), 'failed');
  const rehashed = await hasher.hash(secret);
  t.is(await verifier.verify('app:1', rehashed, secret), 'verified');
});

test('a wrong secret is never remembered; each try costs argon2 (shared only by concurrent tries)', async (t) => {
  const { hasher, verifier, hash } = await setup();
  t.is(await verifier.verify('app:1', hash, 'wrong'), 'failed');
  t.is(await verifier.verify('app:1', hash, 'wrong'), 'failed');
  t.is(hasher.verifications, 2);
  t.false(verifier.knows('wrong', 'app:1'));
});

test('spend() runs argon2 against an unusable credential even when its secret is cached', async (t) => {
  const { hasher, verifier, secret, hash } = await setup();
  await verifier.verify('pw:1', hash, secret);
  const before = hasher.verifications;
  await verifier.spend('pw:1', hash, secret);
  t.is(hasher.verifications, before + 1);
});

test('verifyDummy returns false, even for a secret that exists, and costs one argon2 run', async (t) => {
  const { hasher, verifier, secret } = await setup();
  t.false(await verifier.verifyDummy(secret));
  t.false(await verifier.verifyDummy(''));
  t.is(hasher.verifications, 2);
});
