import test from 'ava';
import { generateSecret } from '../../src/secrets/format.ts';
import { Argon2Pool } from '../../src/secrets/argon2-engine.ts';
import { SecretHasher } from '../../src/secrets/hasher.ts';

const CURRENT = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const hasher = new SecretHasher(CURRENT);
const { secret } = generateSecret('app-password');
const hash = hasher.hash(secret);

test('hashes are argon2id with the configured parameters', async (t) => {
  t.regex(await hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
});

test('the same secret hashes differently each time (salted)', async (t) => {
  t.not(await hasher.hash(secret), await hash);
});

test('the right secret verifies', async (t) => {
  t.true(await hasher.verify(await hash, secret));
});

const WRONG: [string, (s: string) => string][] = [
  ['another secret', () => generateSecret('app-password').secret],
  ['the secret with one character changed', (s) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`],
  ['a prefix of the secret', (s) => s.slice(0, -1)],
  ['the secret with a trailing newline', (s) => `${s}\n`],
  ['the empty string', () => ''],
];

for (const [name, wrong] of WRONG) {
  test(`${name} does not verify`, async (t) => {
    t.false(await hasher.verify(await hash, wrong(secret)));
  });
}

test('a malformed hash does not verify and does not throw', async (t) => {
  for (const bad of ['', 'not a hash', '$argon2id$v=19$m=19456,t=2,p=1$', secret]) {
    t.false(await hasher.verify(bad, secret), JSON.stringify(bad));
  }
});

test('needsRehash is false for a hash made with the current parameters', async (t) => {
  t.false(hasher.needsRehash(await hash));
});

const OLDER: [string, { memoryCost: number; timeCost: number; parallelism: number }][] = [
  ['less memory (8192 KiB)', { ...CURRENT, memoryCost: 8192 }],
  ['more memory', { ...CURRENT, memoryCost: 32_768 }],
  ['fewer iterations', { ...CURRENT, timeCost: 1 }],
  ['more parallelism', { ...CURRENT, parallelism: 2 }],
];

for (const [name, params] of OLDER) {
  test(`needsRehash is true for a hash made with ${name}, which still verifies`, async (t) => {
    const other = await new SecretHasher(params).hash(secret);
    t.true(hasher.needsRehash(other));
    t.true(await hasher.verify(other, secret));
  });
}

test('needsRehash is false rather than throwing for a malformed hash', (t) => {
  t.false(hasher.needsRehash('not a hash'));
});

test('a hash made by the earlier argon2 binding (parameters in another order) verifies, and counts as current', async (t) => {
  // $argon2id$ with m, p, t as node-argon2 wrote them, for the secret "secret"
  const older = '$argon2id$v=19$m=8192,p=1,t=1$jTjHdWd6Y3fAOi+O6glQfA$76JvfWsl04C8weV8j4HyI5NG5gu2AT4k1X3wgHkSY8Y';
  const weak = new SecretHasher({ memoryCost: 8192, timeCost: 1, parallelism: 1 });
  t.true(await weak.verify(older, 'secret'));
  t.false(await weak.verify(older, 'secreT'));
  t.false(weak.needsRehash(older));
  t.true(hasher.needsRehash(older));
});

test("argon2 on its own threads (the server's pool) hashes and verifies like the inline engine", async (t) => {
  const pool = new Argon2Pool(2);
  try {
    const pooled = new SecretHasher(CURRENT, { maxRunning: 2, maxWaiting: 8 }, pool);
    const made = await pooled.hash(secret);
    t.regex(made, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    t.true(await hasher.verify(made, secret));
    t.deepEqual(await Promise.all([pooled.verify(await hash, secret), pooled.verify(await hash, 'wrong'), pooled.verify('not a hash', secret)]), [true, false, false]);
  } finally {
    await pool.close();
  }
});
