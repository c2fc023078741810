// POST /revoke (RFC 7009) and `token revoke`, over HTTP against the real server.
import test from 'ava';
import { decodeJwt } from 'jose';
import { createLogger } from '../../src/logger.ts';
import { serve, type Serving } from '../../src/serve.ts';
import { purgeExpired } from '../../src/store/housekeeping.ts';
import { createPrisma } from '../../src/store/prisma.ts';
import { basic, createApp, prepareDatabase, startInstance, untilPropagated, type Instance } from '../helpers/instance.ts';

let instance: Instance;
const secrets: Record<string, string> = {};

test.before(async () => {
  instance = await startInstance();
  secrets.billing = await createApp(instance, 'billing');
  secrets.shipping = await createApp(instance, 'shipping');
  const rs = await instance.admin('app', 'create', 'api-rs', '--secret', '--audiences', 'https://api.example', '--json');
  if (rs.code !== 0) throw new Error(rs.stderr);
  secrets['api-rs'] = rs.json<{ client_secret: string }>().client_secret;
});
test.after.always(() => instance?.close());

const auth = (clientId: string) => ({ authorization: basic(clientId, secrets[clientId]!) });

async function tokenFor(clientId: string): Promise<string> {
  const response = await instance.token({ grant_type: 'client_credentials' }, auth(clientId));
  if (response.status !== 200) throw new Error(await response.text());
  return ((await response.json()) as { access_token: string }).access_token;
}

const revoke = (caller: string, token: string, extra: Record<string, string> = {}) => instance.post('/revoke', { token, ...extra }, auth(caller));

async function active(token: string, on: string = instance.url): Promise<boolean> {
  const response = await fetch(`${on}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth('api-rs') }, body: new URLSearchParams({ token }).toString() });
  if (response.status !== 200) throw new Error(await response.text());
  return ((await response.json()) as { active: boolean }).active;
}

async function revocationEvents(clientId: string): Promise<{ action: string; outcome: string; reason: string | null; details: Record<string, unknown> | null }[]> {
  const rows = (await instance.admin('audit', 'list', '--app', clientId, '--json')).json<{ action: string; outcome: string; reason: string | null; details: Record<string, unknown> | null }[]>();
  return rows.filter((e) => e.action === 'token.revoked');
}

test.serial('the application a token was issued to revokes it: 200 with an empty body, inactive at once, audited with its jti', async (t) => {
  const token = await tokenFor('billing');
  t.true(await active(token));
  const response = await revoke('billing', token);
  t.is(response.status, 200);
  t.is(await response.text(), '');
  t.is(response.headers.get('cache-control'), 'no-store');
  t.false(await active(token));
  const jti = decodeJwt(token).jti;
  const events = await untilPropagated(() => revocationEvents('billing'), (e) => e.length > 0, 5000);
  t.true(events.some((e) => e.outcome === 'success' && e.details?.jti === jti && e.details?.revoked === true));
  // the token itself is still a good signature: only introspection knows
  t.is((await revoke('billing', await tokenFor('billing'), { token_type_hint: 'access_token' })).status, 200);
});

test.serial('revoking twice answers 200 both times and records the second as already revoked', async (t) => {
  const token = await tokenFor('billing');
  t.is((await revoke('billing', token)).status, 200);
  t.is((await revoke('billing', token)).status, 200);
  const jti = decodeJwt(token).jti;
  const events = await untilPropagated(() => revocationEvents('billing'), (e) => e.some((x) => x.reason === 'already revoked'), 5000);
  t.true(events.some((e) => e.reason === 'already revoked'));
  t.is(events.filter((e) => e.details?.jti === jti && e.details?.revoked === true).length, 1);
});

test.serial('another application, even one the token is addressed to, cannot revoke it: 200 and nothing happens', async (t) => {
  const token = await tokenFor('billing');
  for (const caller of ['shipping', 'api-rs']) {
    const response = await revoke(caller, token);
    t.is(response.status, 200, caller);
    t.is(await response.text(), '', caller);
  }
  t.true(await active(token));
  const events = await untilPropagated(() => revocationEvents('api-rs'), (e) => e.length > 0, 5000);
  t.true(events.some((e) => e.outcome === 'failure' && e.reason === 'issued to another application'));
});

test.serial('garbage and a refresh_token hint answer 200 too; a missing token is invalid_request; no credentials is 401', async (t) => {
  t.is((await revoke('billing', 'not-a-token')).status, 200);
  t.is((await revoke('billing', 'not-a-token', { token_type_hint: 'refresh_token' })).status, 200);
  const missing = await instance.post('/revoke', {}, auth('billing'));
  t.is(missing.status, 400);
  t.is(((await missing.json()) as { error: string }).error, 'invalid_request');
  const token = await tokenFor('billing');
  const anonymous = await instance.post('/revoke', { token });
  t.is(anonymous.status, 401);
  t.is(anonymous.headers.get('www-authenticate'), null);
  const wrong = await instance.post('/revoke', { token }, { authorization: basic('billing', 'wrong') });
  t.is(wrong.status, 401);
  t.regex(wrong.headers.get('www-authenticate') ?? '', /^Basic /);
  t.true(await active(token));
  t.is((await fetch(`${instance.url}/revoke`)).status, 405);
});

test.serial('a revocation reaches a second server process on the same database within 2 s; one that starts later knows the earlier ones', async (t) => {
  const earlier = await tokenFor('billing');
  t.is((await revoke('billing', earlier)).status, 200);
  const kek = await prepareDatabase(instance.config);
  // the production poll interval, not the tests' shorter one
  const second: Serving = await serve(instance.config, createLogger('silent'), kek);
  try {
    const secondUrl = `http://127.0.0.1:${second.port}`;
    t.false(await active(earlier, secondUrl));
    const token = await tokenFor('billing');
    t.true(await active(token, secondUrl));
    t.is((await revoke('billing', token)).status, 200);
    t.false(await untilPropagated(() => active(token, secondUrl), (a) => a === false, 2000));
  } finally {
    await second.close();
  }
});

test.serial('token revoke --jti makes one token inactive; an unknown-looking jti is refused', async (t) => {
  const token = await tokenFor('shipping');
  const other = await tokenFor('shipping');
  const jti = decodeJwt(token).jti!;
  const run = await instance.admin('token', 'revoke', '--jti', jti, '--json');
  t.is(run.code, 0, run.stderr);
  t.is(run.json<{ jti: string; revoked: string }>().revoked, 'now');
  t.false(await untilPropagated(() => active(token), (a) => a === false));
  t.true(await active(other));
  t.is((await instance.admin('token', 'revoke', '--jti', jti, '--json')).json<{ revoked: string }>().revoked, 'already');
  const bad = await instance.admin('token', 'revoke', '--jti', 'has spaces in it');
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^error: --jti/);
  const events = (await instance.admin('audit', 'list', '--json')).json<{ action: string; details: Record<string, unknown> | null }[]>();
  t.is(events.filter((e) => e.action === 'token.revoked' && e.details?.jti === jti && e.details?.actor === 'admin-cli').length, 1);
});

test.serial('token revoke --app --before: everything issued before the moment is inactive, tokens issued after are not', async (t) => {
  const before = await tokenFor('shipping');
  const unrelated = await tokenFor('billing');
  // iat has whole seconds: the cut falls in a later second than the first token
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const run = await instance.admin('token', 'revoke', '--app', 'shipping', '--before', 'now', '--json');
  t.is(run.code, 0, run.stderr);
  const cut = run.json<{ client_id: string; issued_before: string; kept_until: string }>();
  t.is(cut.client_id, 'shipping');
  t.is(Date.parse(cut.kept_until) - Date.parse(cut.issued_before), 86_400_000);
  t.false(await untilPropagated(() => active(before), (a) => a === false));
  t.true(await active(unrelated));
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.true(await active(await tokenFor('shipping')));
  const events = (await instance.admin('audit', 'list', '--app', 'shipping', '--json')).json<{ action: string; details: Record<string, unknown> | null }[]>();
  t.true(events.some((e) => e.action === 'token.revoked' && e.details?.issued_before === cut.issued_before));
});

test.serial('token revoke refuses what it cannot do: a future moment, an unknown application, a bad time, mixed options', async (t) => {
  const future = new Date(Date.now() + 3_600_000).toISOString();
  const refusals: [string[], RegExp][] = [
    [['--app', 'shipping', '--before', future], /must not be in the future/],
    [['--app', 'nobody', '--before', 'now'], /no application "nobody"/],
    [['--app', 'shipping', '--before', 'yesterday'], /--before must be now or a date/],
    [['--app', 'shipping', '--before', '2026-11-30'], /--before must be now or a date/],
    [['--app', 'shipping', '--before', '2026-02-30T00:00:00Z'], /--before must be now or a date/],
    [['--app', 'shipping', '--before', '2026-11-30T24:00:00Z'], /--before must be now or a date/],
    [['--app', 'shipping', '--before', '2026-11-30T12:00:00+25:00'], /--before must be now or a date/],
    [['--app', 'shipping'], /give --jti, or --app with --before/],
    [['--jti', 'abcdefghijklmnop', '--app', 'shipping'], /either --jti, or --app/],
    [[], /give --jti/],
  ];
  for (const [argv, message] of refusals) {
    const run = await instance.admin('token', 'revoke', ...argv);
    t.is(run.code, 1, argv.join(' '));
    t.regex(run.stderr, message, argv.join(' '));
  }
  const timed = await instance.admin('token', 'revoke', '--app', 'billing', '--before', '2026-01-01T00:00:00+01:00', '--json');
  t.is(timed.code, 0, timed.stderr);
  t.is(timed.json<{ issued_before: string }>().issued_before, '2025-12-31T23:00:00.000Z');
});

test.serial('housekeeping forgets revocations once every token they concern has expired', async (t) => {
  const db = await createPrisma(instance.config.database);
  try {
    const kept = await db.tokenRevocation.count();
    t.true(kept > 0);
    const removed = await purgeExpired(db, 30, new Date(Date.now() + 2 * 86_400_000), { batchSize: 2, pauseMs: 1 });
    t.is(removed.revocations, kept);
    t.is(await db.tokenRevocation.count(), 0);
  } finally {
    await db.$disconnect();
  }
});

test('one application can hold only so many revoked, unexpired tokens: beyond, /revoke answers 503 and the token stays valid', async (t) => {
  const limited = await startInstance({ REVOKED_TOKENS_PER_APPLICATION: '3' });
  try {
    const secret = await createApp(limited, 'churner');
    const other = await createApp(limited, 'neighbour');
    const issue = async (clientId: string, value: string) => ((await (await limited.token({ grant_type: 'client_credentials' }, { authorization: basic(clientId, value) })).json()) as { access_token: string }).access_token;
    const revokeAs = (clientId: string, value: string, token: string) => limited.post('/revoke', { token }, { authorization: basic(clientId, value) });
    for (let i = 0; i < 3; i++) t.is((await revokeAs('churner', secret, await issue('churner', secret))).status, 200);
    const kept = await issue('churner', secret);
    const refused = await revokeAs('churner', secret, kept);
    t.is(refused.status, 503);
    t.is(((await refused.json()) as { error: string }).error, 'temporarily_unavailable');
    const introspected = await limited.post('/introspect', { token: kept }, { authorization: basic('churner', secret) });
    t.true(((await introspected.json()) as { active: boolean }).active);
    // another application is not held back by it
    t.is((await revokeAs('neighbour', other, await issue('neighbour', other))).status, 200);
  } finally {
    await limited.close();
  }
});
