import test, { type ExecutionContext } from 'ava';
import { rmSync } from 'node:fs';
import { createLogger } from '../../src/logger.ts';
import { prepare } from '../../src/prepare.ts';
import { findJwksSource } from '../../src/store/jwks-sources.ts';
import { createPrisma, type Db } from '../../src/store/prisma.ts';
import type { JwksSource } from '../../src/store/types.ts';
import { fetchOptions, fetchSourceKeys, SourceFetchError } from '../../src/trust/fetch-source-keys.ts';
import { JwksKeyCache } from '../../src/trust/jwks-key-cache.ts';
import type { VerificationKey } from '../../src/trust/verify-input-jwt.ts';
import { ExternalIssuer, issuerKey, type IssuerKey } from '../helpers/external-issuer.ts';
import { runAdmin, tempDir, testConfig } from '../helpers/instance.ts';

const COOLDOWN_MS = 30_000;
const log = createLogger('silent');
const dir = tempDir();
const config = testConfig(dir, { JWKS_ALLOW_PRIVATE_NETWORKS: 'true' });
let db: Db;

test.before(async () => {
  await prepare(config, log);
  db = await createPrisma(config.database);
  const run = await runAdmin(config, ['app', 'create', 'consumer', '--grants', 'jwt-bearer', '--audiences', 'https://api.example']);
  if (run.code !== 0) throw new Error(run.stderr);
});
test.after.always(async () => {
  await db?.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

let sources = 0;

/** An external issuer and a URL source for it, added through the admin CLI (which fetches once). */
async function newSource(t: ExecutionContext): Promise<{ issuer: ExternalIssuer; source: JwksSource }> {
  const n = ++sources;
  const issuer = await ExternalIssuer.start({ issuer: `https://cache-${n}.example` });
  t.teardown(() => issuer.close());
  const name = `cache-${n}`;
  const run = await runAdmin(config, ['jwks', 'add', name, '--url', issuer.jwksUrl, '--issuer', issuer.issuer, '--app', 'consumer']);
  if (run.code !== 0) throw new Error(run.stderr);
  return { issuer, source: (await findJwksSource(db, name))! };
}

interface Harness {
  cache: JwksKeyCache;
  clock: { now: number };
  fetches: () => number;
}

/** A cache over the test database whose clock the test moves, counting the real fetches it makes. */
function harness(options: { fetchKeys?: typeof fetchSourceKeys; startAt?: number } = {}): Harness {
  // later than the admin CLI's fetch, so the cache's own fetches count as newer
  const clock = { now: options.startAt ?? Date.now() + 1000 };
  let fetches = 0;
  const inner = options.fetchKeys ?? fetchSourceKeys;
  const cache = new JwksKeyCache({
    db,
    log,
    fetch: fetchOptions(config),
    cooldownMs: COOLDOWN_MS,
    now: () => clock.now,
    fetchKeys: (source, fetchOpts) => {
      fetches++;
      return inner(source, fetchOpts);
    },
  });
  return { cache, clock, fetches: () => fetches };
}

/** The modulus of a resolved key, to tell which published key it is. */
function modulusOf(found: VerificationKey[]): string[] {
  return found.map((k) => ('export' in k.key ? (k.key.export({ format: 'jwk' }).n as string) : ''));
}

function publish(issuer: ExternalIssuer, key: IssuerKey): void {
  issuer.keys = [...issuer.keys, key];
}

test('a known kid is served from the stored keys without fetching', async (t) => {
  const { issuer, source } = await newSource(t);
  const hitsAfterAdd = issuer.hitsOf('/jwks.json');
  const { cache, fetches } = harness();
  const known = issuer.keys[0]!;

  const found = await cache.resolver(source)({ kid: known.kid, alg: 'RS256' });

  t.deepEqual(modulusOf(found), [known.publicJwk.n]);
  t.is(found[0]!.source, `jwks:${source.name}`);
  t.is(fetches(), 0);
  t.is(issuer.hitsOf('/jwks.json'), hitsAfterAdd);
});

test('a known kid with an algorithm its key does not do resolves to nothing, without fetching', async (t) => {
  const { issuer, source } = await newSource(t);
  const { cache, fetches } = harness();

  t.deepEqual(await cache.resolver(source)({ kid: issuer.keys[0]!.kid, alg: 'ES256' }), []);
  t.is(fetches(), 0);
});

test('an unknown kid triggers exactly one fetch and resolves to the newly published key', async (t) => {
  const { issuer, source } = await newSource(t);
  const added = await issuerKey();
  publish(issuer, added);
  const hitsBefore = issuer.hitsOf('/jwks.json');
  const { cache, fetches } = harness();

  const found = await cache.resolver(source)({ kid: added.kid, alg: 'RS256' });

  t.deepEqual(modulusOf(found), [added.publicJwk.n]);
  t.is(fetches(), 1);
  t.is(issuer.hitsOf('/jwks.json'), hitsBefore + 1);
});

test('50 concurrent resolutions of an unknown kid share a single fetch', async (t) => {
  const { issuer, source } = await newSource(t);
  const added = await issuerKey();
  publish(issuer, added);
  const hitsBefore = issuer.hitsOf('/jwks.json');
  const { cache, fetches } = harness();
  const resolve = cache.resolver(source);

  const all = await Promise.all(Array.from({ length: 50 }, () => resolve({ kid: added.kid, alg: 'RS256' })));

  t.is(fetches(), 1);
  t.is(issuer.hitsOf('/jwks.json'), hitsBefore + 1);
  for (const found of all) t.deepEqual(modulusOf(found), [added.publicJwk.n]);
});

test('concurrent resolvers built from separate reloads of the same source still share one fetch', async (t) => {
  const { issuer, source } = await newSource(t);
  const added = await issuerKey();
  publish(issuer, added);
  const { cache, fetches } = harness();
  const reloaded = (await findJwksSource(db, source.name))!;

  const [a, b] = await Promise.all([cache.resolver(source)({ kid: added.kid, alg: 'RS256' }), cache.resolver(reloaded)({ kid: added.kid, alg: 'RS256' })]);

  t.is(fetches(), 1);
  t.deepEqual(modulusOf(a), [added.publicJwk.n]);
  t.deepEqual(modulusOf(b), [added.publicJwk.n]);
});

test('a second unknown kid within the cooldown does not fetch; after the cooldown it does', async (t) => {
  const { issuer, source } = await newSource(t);
  const first = await issuerKey();
  publish(issuer, first);
  const { cache, clock, fetches } = harness();
  const resolve = cache.resolver(source);

  t.deepEqual(modulusOf(await resolve({ kid: first.kid, alg: 'RS256' })), [first.publicJwk.n]);
  t.is(fetches(), 1);

  const second = await issuerKey();
  publish(issuer, second);
  clock.now += COOLDOWN_MS - 1;
  t.deepEqual(await resolve({ kid: second.kid, alg: 'RS256' }), [], 'within the cooldown the unknown kid is refused');
  t.deepEqual(await resolve({ kid: 'never-published', alg: 'RS256' }), []);
  t.is(fetches(), 1);

  clock.now += 1;
  t.deepEqual(modulusOf(await resolve({ kid: second.kid, alg: 'RS256' })), [second.publicJwk.n]);
  t.is(fetches(), 2);
});

test('a failed fetch keeps the last good keys and records last_error in the database', async (t) => {
  const { issuer, source } = await newSource(t);
  const known = issuer.keys[0]!;
  issuer.jwksHandler = (_req, res) => void res.writeHead(500).end('oops');
  const { cache, clock, fetches } = harness();
  const resolve = cache.resolver(source);

  t.deepEqual(await resolve({ kid: 'rotated-in', alg: 'RS256' }), []);
  t.is(fetches(), 1);
  t.deepEqual(modulusOf(await resolve({ kid: known.kid, alg: 'RS256' })), [known.publicJwk.n], 'the last good key still verifies');

  const stored = (await findJwksSource(db, source.name))!;
  t.regex(stored.lastError ?? '', /status 500/);
  t.is(stored.lastErrorAt?.getTime(), clock.now);
  t.deepEqual(
    stored.keys.map((k) => k.kid),
    [known.kid],
    'the stored keys are not replaced by a failure',
  );
  t.is(stored.fetchedAt?.getTime(), source.fetchedAt?.getTime());
});

test('an unexpected error while fetching neither escapes the resolver nor drops the keys', async (t) => {
  const { issuer, source } = await newSource(t);
  const known = issuer.keys[0]!;
  const { cache, fetches } = harness({
    fetchKeys: () => Promise.reject(new TypeError('socket exploded')),
  });
  const resolve = cache.resolver(source);

  t.deepEqual(await resolve({ kid: 'unknown', alg: 'RS256' }), []);
  t.is(fetches(), 1);
  t.deepEqual(modulusOf(await resolve({ kid: known.kid, alg: 'RS256' })), [known.publicJwk.n]);
  const stored = (await findJwksSource(db, source.name))!;
  t.truthy(stored.lastError);
  t.notRegex(stored.lastError!, /socket exploded/, 'internal error text is not stored for operators');
});

test('a successful fetch stores the keys, so a new cache over the reloaded source needs no fetch', async (t) => {
  const { issuer, source } = await newSource(t);
  const added = await issuerKey();
  publish(issuer, added);
  issuer.cacheControl = 'public, max-age=600';
  const first = harness();
  await first.cache.resolver(source)({ kid: added.kid, alg: 'RS256' });
  t.is(first.fetches(), 1);

  const stored = (await findJwksSource(db, source.name))!;
  t.deepEqual(stored.keys.map((k) => k.kid).sort(), issuer.keys.map((k) => k.kid).sort());
  t.is(stored.fetchedAt?.getTime(), first.clock.now);
  t.is(stored.freshUntil?.getTime(), first.clock.now + 600_000, 'fresh for the max-age the server sent');
  t.is(stored.lastError, null);

  const hitsBefore = issuer.hitsOf('/jwks.json');
  const second = harness({ startAt: first.clock.now + 1000 });
  const found = await second.cache.resolver(stored)({ kid: added.kid, alg: 'RS256' });
  t.deepEqual(modulusOf(found), [added.publicJwk.n]);
  t.is(second.fetches(), 0);
  t.is(issuer.hitsOf('/jwks.json'), hitsBefore);
});

test('a max-age outside 60 s..24 h is clamped when the keys are stored', async (t) => {
  const { issuer, source } = await newSource(t);
  publish(issuer, await issuerKey());
  issuer.cacheControl = 'max-age=5';
  const short = harness();
  await short.cache.resolver(source)({ kid: issuer.keys[1]!.kid, alg: 'RS256' });
  t.is((await findJwksSource(db, source.name))!.freshUntil?.getTime(), short.clock.now + 60_000);

  publish(issuer, await issuerKey());
  issuer.cacheControl = 'max-age=999999999';
  const long = harness({ startAt: short.clock.now + 1000 });
  await long.cache.resolver((await findJwksSource(db, source.name))!)({ kid: issuer.keys[2]!.kid, alg: 'RS256' });
  t.is(long.fetches(), 1);
  t.is((await findJwksSource(db, source.name))!.freshUntil?.getTime(), long.clock.now + 86_400_000);
});

test('stale keys are still served while a single background refresh runs', async (t) => {
  const { issuer, source } = await newSource(t);
  const known = issuer.keys[0]!;
  const added = await issuerKey();
  publish(issuer, added);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const { cache, clock, fetches } = harness({
    fetchKeys: async (location, options) => {
      await gate;
      return fetchSourceKeys(location, options);
    },
    startAt: source.freshUntil!.getTime() + 1,
  });
  const resolve = cache.resolver(source);

  // the refresh is held back, so these resolve only if nothing waits for it
  t.deepEqual(modulusOf(await resolve({ kid: known.kid, alg: 'RS256' })), [known.publicJwk.n]);
  t.is(fetches(), 1, 'stale keys start a refresh');
  t.deepEqual(modulusOf(await resolve({ kid: known.kid, alg: 'RS256' })), [known.publicJwk.n]);
  t.is(fetches(), 1, 'one refresh in flight at a time');

  const joined = resolve({ kid: added.kid, alg: 'RS256' });
  release();
  t.deepEqual(modulusOf(await joined), [added.publicJwk.n], 'the background refresh brought the new key');
  t.is(fetches(), 1);

  const stored = (await findJwksSource(db, source.name))!;
  t.is(stored.fetchedAt?.getTime(), clock.now);
  t.true(stored.freshUntil!.getTime() > clock.now);

  clock.now += COOLDOWN_MS + 1;
  await resolve({ kid: known.kid, alg: 'RS256' });
  t.is(fetches(), 1, 'fresh again: no further refresh');
});

test('keys are not refreshed while fresh, whatever the cooldown', async (t) => {
  const { issuer, source } = await newSource(t);
  const { cache, clock, fetches } = harness();
  const resolve = cache.resolver(source);
  for (let i = 0; i < 5; i++) {
    clock.now += COOLDOWN_MS * 2;
    await resolve({ kid: issuer.keys[0]!.kid, alg: 'RS256' });
  }
  t.true(clock.now < source.freshUntil!.getTime());
  t.is(fetches(), 0);
});

test('a refresh failure for stale keys keeps serving them and records the failure', async (t) => {
  const { issuer, source } = await newSource(t);
  const known = issuer.keys[0]!;
  const { cache, clock, fetches } = harness({
    fetchKeys: () => Promise.reject(new SourceFetchError('timed out after 1000 ms')),
    startAt: source.freshUntil!.getTime() + 1,
  });
  const resolve = cache.resolver(source);

  t.deepEqual(modulusOf(await resolve({ kid: known.kid, alg: 'RS256' })), [known.publicJwk.n]);
  // an unknown kid joins the refresh in flight, so its end is observable
  await resolve({ kid: 'unknown', alg: 'RS256' });
  t.is(fetches(), 1);
  const stored = (await findJwksSource(db, source.name))!;
  t.is(stored.lastError, 'timed out after 1000 ms');
  t.is(stored.lastErrorAt?.getTime(), clock.now);
  t.deepEqual(modulusOf(await resolve({ kid: known.kid, alg: 'RS256' })), [known.publicJwk.n]);
});

test('a JWT without kid is tried against at most four keys, however many the source publishes', async (t) => {
  const { issuer, source } = await newSource(t);
  for (let i = 0; i < 7; i++) publish(issuer, await issuerKey('RS256'));
  const { cache, fetches } = harness();
  const stored = (await runAdmin(config, ['jwks', 'refresh', source.name])).code;
  t.is(stored, 0);
  const reloaded = (await findJwksSource(db, source.name))!;
  t.is(reloaded.keys.length, 8);

  t.is((await cache.resolver(reloaded)({ kid: undefined, alg: 'RS256' })).length, 4);
  t.is(fetches(), 0);
});
