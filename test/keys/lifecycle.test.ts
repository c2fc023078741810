// The signing-key schedule walked with a fake clock over a real database: next key published ahead,
// promotion at N days, retirement, removal once the longest token has expired, private key wiped.
import test from 'ava';
import { rmSync } from 'node:fs';
import { Keystore } from '../../src/keys/keystore.ts';
import { advanceKeyLifecycle, keySettings, RETIRE_MARGIN_MS, revokeKey, rotateKeys, type KeySettings } from '../../src/keys/lifecycle.ts';
import { listSigningKeys } from '../../src/store/keys.ts';
import { createPrisma, type Db } from '../../src/store/prisma.ts';
import type { SigningKeyRecord } from '../../src/store/types.ts';
import { prepareDatabase, runAdmin, tempDir, testConfig } from '../helpers/instance.ts';

const DAY = 86_400_000;
const MINUTE = 60_000;

async function fresh(env: Record<string, string> = {}) {
  const dir = tempDir();
  const config = testConfig(dir, { KEY_ROTATION_DAYS: '30', KEY_PUBLISH_AHEAD: '600', ACCESS_TOKEN_TTL: '600', ...env });
  const kek = await prepareDatabase(config);
  const db = await createPrisma(config.database);
  const settings = keySettings(config);
  const [first] = await listSigningKeys(db);
  return {
    config,
    kek,
    db,
    settings,
    first: first!,
    T0: first!.activatedAt!.getTime(),
    async close() {
      await db.$disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const byState = (keys: SigningKeyRecord[], state: string) => keys.filter((k) => k.state === state);
const publishedKids = async (db: Db, kek: Buffer, now: Date) => (JSON.parse((await Keystore.load(await listSigningKeys(db), kek, now)).jwksBody) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
const actions = async (db: Db) => (await db.auditEvent.findMany({ where: { action: { startsWith: 'key.' } }, orderBy: { id: 'asc' } })).map((e) => `${e.action}:${JSON.parse(e.details!).actor}`);

test('the whole life on the schedule: next published ahead, promoted at N days, retired, removed with its private key wiped', async (t) => {
  const { db, kek, settings, first, T0, close } = await fresh();
  try {
    const at = (ms: number) => new Date(T0 + ms);
    t.deepEqual(await advanceKeyLifecycle(db, kek, settings, at(DAY)), []);
    const aheadOfTime = 30 * DAY - 10 * MINUTE;
    t.deepEqual(await advanceKeyLifecycle(db, kek, settings, at(aheadOfTime - 1)), []);
    const created = await advanceKeyLifecycle(db, kek, settings, at(aheadOfTime));
    t.deepEqual(created.map((c) => c.action), ['key.created']);
    let keys = await listSigningKeys(db);
    const next = byState(keys, 'next')[0]!;
    t.is(next.promoteAt!.getTime(), T0 + 30 * DAY);
    t.is(byState(keys, 'active')[0]!.kid, first.kid);
    // published before it signs; the old key still signs
    t.deepEqual((await publishedKids(db, kek, at(aheadOfTime))).sort(), [first.kid, next.kid].sort());
    t.is((await Keystore.load(keys, kek, at(aheadOfTime))).active!.kid, first.kid);

    t.deepEqual(await advanceKeyLifecycle(db, kek, settings, at(30 * DAY - 1)), []);
    const promoted = await advanceKeyLifecycle(db, kek, settings, at(30 * DAY));
    t.deepEqual(promoted.map((c) => c.action), ['key.retired', 'key.activated']);
    keys = await listSigningKeys(db);
    const retired = keys.find((k) => k.kid === first.kid)!;
    t.is(retired.state, 'retired');
    t.is(retired.publishUntil!.getTime(), T0 + 30 * DAY + DAY + RETIRE_MARGIN_MS);
    t.is((await Keystore.load(keys, kek, at(30 * DAY))).active!.kid, next.kid);
    t.true((await publishedKids(db, kek, at(30 * DAY))).includes(first.kid));

    const removeAt = retired.publishUntil!.getTime() - T0;
    t.deepEqual(await advanceKeyLifecycle(db, kek, settings, at(removeAt - 1)), []);
    t.deepEqual((await advanceKeyLifecycle(db, kek, settings, at(removeAt))).map((c) => c.action), ['key.removed']);
    const removed = (await listSigningKeys(db)).find((k) => k.kid === first.kid)!;
    t.is(removed.state, 'removed');
    t.is(removed.privateKey, '');
    t.truthy(removed.publicJwk.kty, 'the public part stays for the audit trail');
    t.deepEqual(await publishedKids(db, kek, at(removeAt)), [next.kid]);
    t.deepEqual(await actions(db), ['key.created:schedule', 'key.retired:schedule', 'key.activated:schedule', 'key.removed:schedule']);

    // and the next rotation follows N days after the promotion
    t.deepEqual((await advanceKeyLifecycle(db, kek, settings, at(60 * DAY - 10 * MINUTE))).map((c) => c.action), ['key.created']);
  } finally {
    await close();
  }
});

test('a retired key stays published for the longest lifetime any setting allows, plus the margin, even when lifetimes were lowered', async (t) => {
  const { db, kek, config, settings, T0, close } = await fresh();
  try {
    // a token signed while the application's lifetime was a day is valid for a day, whatever the lifetime is later
    t.is((await runAdmin(config, ['app', 'create', 'long-lived', '--audiences', 'https://api.example', '--ttl', '86400'])).code, 0);
    t.is((await runAdmin(config, ['app', 'update', 'long-lived', '--ttl', '600'])).code, 0);
    await rotateKeys(db, kek, settings, { immediately: true }, new Date(T0 + DAY));
    const retired = byState(await listSigningKeys(db), 'retired')[0]!;
    t.is(retired.publishUntil!.getTime(), T0 + DAY + DAY + RETIRE_MARGIN_MS);
  } finally {
    await close();
  }
});

test('KEY_ROTATION_DAYS=0: no scheduled rotation, however old the key', async (t) => {
  const { db, kek, settings, T0, close } = await fresh({ KEY_ROTATION_DAYS: '0' });
  try {
    t.deepEqual(await advanceKeyLifecycle(db, kek, settings, new Date(T0 + 3650 * DAY)), []);
    t.is((await listSigningKeys(db)).length, 1);
  } finally {
    await close();
  }
});

test('keys rotate: a next key now, promoted by the schedule only once it has been published KEY_PUBLISH_AHEAD', async (t) => {
  const { db, kek, settings, first, T0, close } = await fresh({ KEY_ROTATION_DAYS: '0' });
  try {
    const now = T0 + DAY;
    const next = await rotateKeys(db, kek, settings, {}, new Date(now));
    t.is(next.state, 'next');
    t.is(next.promoteAt!.getTime(), now + 600_000);
    t.deepEqual(await advanceKeyLifecycle(db, kek, settings, new Date(now + 599_999)), []);
    t.deepEqual((await advanceKeyLifecycle(db, kek, settings, new Date(now + 600_000))).map((c) => c.action), ['key.retired', 'key.activated']);
    const keys = await listSigningKeys(db);
    t.is(byState(keys, 'active')[0]!.kid, next.kid);
    t.is(keys.find((k) => k.kid === first.kid)!.state, 'retired');
  } finally {
    await close();
  }
});

test('keys rotate twice reuses the next key; with another --alg it replaces it; --now promotes at once', async (t) => {
  const { db, kek, settings, T0, close } = await fresh({ SIGNING_ALG: 'RS256' });
  try {
    const now = new Date(T0 + DAY);
    const a = await rotateKeys(db, kek, settings, {}, now);
    const b = await rotateKeys(db, kek, settings, {}, now);
    t.is(b.kid, a.kid);
    t.is(a.alg, 'RS256');
    const ec = await rotateKeys(db, kek, settings, { alg: 'ES256' }, now);
    t.not(ec.kid, a.kid);
    t.is(ec.alg, 'ES256');
    t.false((await listSigningKeys(db)).some((k) => k.kid === a.kid), 'the unused next key is gone');
    const active = await rotateKeys(db, kek, settings, { alg: 'ES256', immediately: true }, now);
    t.is(active.kid, ec.kid);
    t.is(active.state, 'active');
    // both algorithms stay published through the overlap
    const keystore = await Keystore.load(await listSigningKeys(db), kek, now);
    t.deepEqual((JSON.parse(keystore.jwksBody) as { keys: { alg: string }[] }).keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    t.is(keystore.active!.alg, 'ES256');
  } finally {
    await close();
  }
});

test('keys revoke of the active key promotes the next one at once; of a next key, it only goes; twice is an error', async (t) => {
  const { db, kek, settings, first, T0, close } = await fresh();
  try {
    const now = new Date(T0 + DAY);
    const next = await rotateKeys(db, kek, settings, {}, now);
    const { revoked, activated } = await revokeKey(db, kek, settings, first.kid, now);
    t.is(revoked.state, 'revoked');
    t.is(revoked.privateKey, '');
    t.is(activated!.kid, next.kid);
    t.deepEqual(await publishedKids(db, kek, now), [next.kid]);
    // a revoked active key without a next key: a new one is made and signs at once
    const alone = await revokeKey(db, kek, settings, next.kid, now);
    t.truthy(alone.activated);
    t.is(byState(await listSigningKeys(db), 'active').length, 1);
    await t.throwsAsync(() => revokeKey(db, kek, settings, next.kid, now), { message: /revoked already/ });
    await t.throwsAsync(() => revokeKey(db, kek, settings, 'no-such-kid', now), { message: /no signing key/ });
    const spare = await rotateKeys(db, kek, settings, {}, now);
    const onlyNext = await revokeKey(db, kek, settings, spare.kid, now);
    t.is(onlyNext.activated, null);
    t.is(byState(await listSigningKeys(db), 'active')[0]!.kid, alone.activated!.kid);
  } finally {
    await close();
  }
});

test('a crash between creating the next key and promoting it leaves a state the schedule carries on from', async (t) => {
  const env = await fresh();
  const { kek, settings, T0, config } = env;
  try {
    await advanceKeyLifecycle(env.db, kek, settings, new Date(T0 + 30 * DAY - 10 * MINUTE));
    await env.db.$disconnect();
    // the process is gone; a new one starts: start-up and the schedule find a next key and an active one
    await prepareDatabase(config);
    const db = await createPrisma(config.database);
    try {
      t.is(byState(await listSigningKeys(db), 'next').length, 1);
      const changes = await advanceKeyLifecycle(db, kek, settings, new Date(T0 + 30 * DAY + 5 * MINUTE));
      t.deepEqual(changes.map((c) => c.action), ['key.retired', 'key.activated']);
      const keys = await listSigningKeys(db);
      t.is(byState(keys, 'active').length, 1);
      t.is(byState(keys, 'next').length, 0);
    } finally {
      await db.$disconnect();
    }
  } finally {
    await env.close();
  }
});

test('start-up works in every state of the life: next, active, retired, removed and revoked keys side by side', async (t) => {
  const { db, kek, settings, config, T0, close } = await fresh();
  try {
    const s: KeySettings = settings;
    await rotateKeys(db, kek, s, { immediately: true }, new Date(T0 + DAY)); // first retired
    await rotateKeys(db, kek, s, { immediately: true }, new Date(T0 + 2 * DAY)); // second retired
    await advanceKeyLifecycle(db, kek, s, new Date(T0 + 3 * DAY)); // the first removed, the second still published
    const toRevoke = await rotateKeys(db, kek, s, {}, new Date(T0 + 3 * DAY));
    await revokeKey(db, kek, s, toRevoke.kid, new Date(T0 + 3 * DAY));
    await rotateKeys(db, kek, s, {}, new Date()); // a next key waiting
    const states = (await listSigningKeys(db)).map((k) => k.state).sort();
    t.deepEqual(states, ['active', 'next', 'removed', 'retired', 'revoked']);
    await prepareDatabase(config);
    const keystore = await Keystore.load(await listSigningKeys(db), kek);
    t.truthy(keystore.active);
    t.is((JSON.parse(keystore.jwksBody) as { keys: unknown[] }).keys.length, 3);
  } finally {
    await close();
  }
});
