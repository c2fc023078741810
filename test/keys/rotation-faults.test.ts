// Faults around signing-key rotation: lifetimes changed after signing, a reload that fails, a worker starting mid-change, wiped keys left in the file.
import test from 'ava';
import Database from 'better-sqlite3';
import { readFileSync, rmSync } from 'node:fs';
import { Keystore } from '../../src/keys/keystore.ts';
import { advanceKeyLifecycle, keySettings, revokeKey, rotateKeys } from '../../src/keys/lifecycle.ts';
import { LiveKeystore } from '../../src/keys/live-keystore.ts';
import { createLogger } from '../../src/logger.ts';
import { CachedState } from '../../src/store/cached-state.ts';
import { listSigningKeys } from '../../src/store/keys.ts';
import { createPrisma, type Db } from '../../src/store/prisma.ts';
import { mintAccessToken } from '../../src/tokens/access-token.ts';
import { inspectAccessToken } from '../../src/tokens/introspection.ts';
import type { RevocationList } from '../../src/tokens/revocation-list.ts';
import { prepareDatabase, runAdmin, tempDir, testConfig, TEST_ISSUER } from '../helpers/instance.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const silent = createLogger('silent');
const noRevocations = { isRevoked: () => false } as unknown as RevocationList;

async function fresh(env: Record<string, string> = {}) {
  const dir = tempDir();
  const config = testConfig(dir, { KEY_ROTATION_DAYS: '30', KEY_PUBLISH_AHEAD: '600', ACCESS_TOKEN_TTL: '600', ...env });
  const kek = await prepareDatabase(config);
  const db = await createPrisma(config.databaseFile);
  const [first] = await listSigningKeys(db);
  return {
    dir,
    config,
    kek,
    db,
    settings: keySettings(config),
    first: first!,
    T0: first!.activatedAt!.getTime(),
    async close() {
      await db.$disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A token signed by the active key at `at`, as the token endpoint would sign it. */
async function tokenAt(db: Db, kek: Buffer, at: number, ttlSeconds: number): Promise<string> {
  const keystore = await Keystore.load(await listSigningKeys(db), kek, new Date(at));
  const minted = await mintAccessToken({ issuer: TEST_ISSUER, subject: 'svc', audience: ['https://api.example'], clientId: 'long-lived', scopes: [], ttlSeconds }, keystore.active!, at);
  return minted.token;
}

async function activeAt(db: Db, kek: Buffer, token: string, at: number): Promise<boolean> {
  const keystore = await Keystore.load(await listSigningKeys(db), kek, new Date(at));
  const inspection = await inspectAccessToken(token, { keystore, issuer: TEST_ISSUER, revocations: noRevocations, now: new Date(at) });
  return inspection.active;
}

test("a retired key stays published while a token signed under an application's earlier, longer --ttl is still valid", async (t) => {
  const { db, kek, config, settings, T0, close } = await fresh();
  try {
    t.is((await runAdmin(config, ['app', 'create', 'long-lived', '--audiences', 'https://api.example', '--ttl', '7200'])).code, 0);
    const token = await tokenAt(db, kek, T0 + MINUTE, 7200); // valid until T0 + 1 min + 2 h
    t.is((await runAdmin(config, ['app', 'update', 'long-lived', '--ttl', '60'])).code, 0);
    await rotateKeys(db, kek, settings, { immediately: true }, new Date(T0 + 2 * MINUTE));
    const check = T0 + HOUR;
    await advanceKeyLifecycle(db, kek, settings, new Date(check));
    t.true(await activeAt(db, kek, token, check), 'the token has an hour to live, but its key was removed from the JWKS');
  } finally {
    await close();
  }
});

test('a retired key stays published while tokens signed under a longer ACCESS_TOKEN_TTL (before a restart, or by a server whose env the admin CLI does not share) are valid', async (t) => {
  const { db, kek, dir, T0, close } = await fresh({ ACCESS_TOKEN_TTL: '3600' });
  try {
    const token = await tokenAt(db, kek, T0 + MINUTE, 3600); // valid until T0 + 61 min
    // restarted with ACCESS_TOKEN_TTL=600 (or `keys rotate --now` run from a shell without the server's ACCESS_TOKEN_TTL)
    const after = keySettings(testConfig(dir, { KEY_ROTATION_DAYS: '30', KEY_PUBLISH_AHEAD: '600', ACCESS_TOKEN_TTL: '600' }));
    await rotateKeys(db, kek, after, { immediately: true }, new Date(T0 + 2 * MINUTE));
    const check = T0 + 30 * MINUTE;
    await advanceKeyLifecycle(db, kek, after, new Date(check));
    t.true(await activeAt(db, kek, token, check), 'the token has 31 minutes to live, but its key was removed from the JWKS');
  } finally {
    await close();
  }
});

test('a worker whose reload failed once picks the keys up again: it neither keeps signing with nor publishing a revoked key', async (t) => {
  const { db, kek, settings, first, config, close } = await fresh();
  const stateDb = await createPrisma(config.databaseFile);
  const state = new CachedState(stateDb, silent, 100);
  let failNext = false;
  // the worker's database connection fails once (SQLITE_BUSY, an I/O error, EMFILE under load...)
  const flaky = new Proxy(db, {
    get(target, prop) {
      if (prop === 'signingKey' && failNext) {
        failNext = false;
        return { findMany: () => Promise.reject(new Error('SQLITE_IOERR: disk I/O error')) };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Db;
  try {
    await state.start();
    const live = await LiveKeystore.open(flaky, kek, state, silent);
    t.is(live.get().active!.kid, first.kid);
    failNext = true;
    await revokeKey(db, kek, settings, first.kid, new Date());
    await new Promise((r) => setTimeout(r, 2500));
    t.false(failNext, 'the reload did run (and failed)');
    t.not(live.get().active!.kid, first.kid, 'still signing with the revoked key');
    t.false(live.get().jwksBody.includes(first.kid), 'still publishing the revoked key');
  } finally {
    state.stop();
    await stateDb.$disconnect();
    await close();
  }
});

test('a worker starting while keys change does not miss a change, before or after it loads them', async (t) => {
  const { db, kek, settings, first, close } = await fresh();
  const state = new CachedState(db, silent, 100);
  try {
    // buildDeps' order: the state version first, then the keys; a revoke commits in between
    await state.start();
    await revokeKey(db, kek, settings, first.kid, new Date());
    const live = await LiveKeystore.open(db, kek, state, silent);
    t.false(live.get().jwksBody.includes(first.kid));
    const second = live.get().active!.kid;
    // and one right after the keys were loaded, before the first poll
    await revokeKey(db, kek, settings, second, new Date());
    await new Promise((r) => setTimeout(r, 2000));
    t.not(live.get().active!.kid, second);
    t.false(live.get().jwksBody.includes(second));
  } finally {
    state.stop();
    await close();
  }
});

test("the private key of a revoked or removed key is gone from the database file, not left in the page's free space", async (t) => {
  const { db, kek, settings, first, config, close } = await fresh();
  try {
    const now = new Date();
    const nextKeys = [await rotateKeys(db, kek, settings, { alg: 'ES256' }, now), await rotateKeys(db, kek, settings, { alg: 'EdDSA' }, now)];
    void nextKeys;
    const second = await rotateKeys(db, kek, settings, { alg: 'RS256', immediately: true }, now);
    await rotateKeys(db, kek, settings, { alg: 'ES256' }, now);
    const victims = [first, second];
    for (const v of victims) await revokeKey(db, kek, settings, v.kid, now);
    const ciphertexts = victims.map((v) => v.privateKey.split('.')[3]!);
    t.true(ciphertexts.every((c) => c.length > 100));
    t.true((await listSigningKeys(db)).filter((k) => victims.some((v) => v.kid === k.kid)).every((k) => k.privateKey === ''));
    await db.$disconnect();
    const sqlite = new Database(config.databaseFile);
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    sqlite.close();
    const bytes = readFileSync(config.databaseFile).toString('latin1');
    t.deepEqual(ciphertexts.map((c) => bytes.includes(c.slice(0, 64)) || bytes.includes(c.slice(-64))), [false, false], 'the sealed private key is still in the database file (and every backup made from it)');
  } finally {
    await close();
  }
});

test('README: SIGNING_ALG no longer applies only to the first key', (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  t.false(readme.includes('Only the first key is generated today'), 'the configuration table still says SIGNING_ALG must be set before the first start');
});
