// keys list | rotate | revoke against a running server: what verifiers and clients see.
import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { basic, createApp, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';

interface KeyView {
  kid: string;
  alg: string;
  state: string;
  promote_at: string | null;
  publish_until: string | null;
  removed_at: string | null;
}

let instance: Instance;
let secret: string;

test.before(async () => {
  instance = await startInstance({ SIGNING_ALG: 'RS256', KEY_PUBLISH_AHEAD: '60' });
  secret = await createApp(instance, 'billing');
  await createApp(instance, 'api-rs');
});
test.after.always(() => instance?.close());

async function token(): Promise<string> {
  const response = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('billing', secret) });
  if (response.status !== 200) throw new Error(await response.text());
  return ((await response.json()) as { access_token: string }).access_token;
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
const keys = async () => (await instance.admin('keys', 'list', '--json')).json<KeyView[]>();
const activeKey = async () => (await keys()).find((k) => k.state === 'active')!;
const jwksKids = async () => ((await (await fetch(`${instance.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string }[] }).keys;

test.serial('the JWKS max-age stays below KEY_PUBLISH_AHEAD: half of it, at most 5 minutes', async (t) => {
  const response = await fetch(`${instance.url}/.well-known/jwks.json`);
  t.is(response.headers.get('cache-control'), 'public, max-age=30');
});

test.serial('keys rotate publishes a next key at once and keeps signing with the active one', async (t) => {
  const before = await activeKey();
  const run = await instance.admin('keys', 'rotate', '--json');
  t.is(run.code, 0, run.stderr);
  const next = run.json<KeyView>();
  t.is(next.state, 'next');
  t.is(Date.parse(next.promote_at!) - Date.now() > 50_000, true);
  const published = await untilPropagated(jwksKids, (k) => k.some((key) => key.kid === next.kid));
  t.true(published.some((k) => k.kid === next.kid));
  t.is(kidOf(await token()), before.kid);
  const text = await instance.admin('keys', 'rotate');
  t.regex(text.stdout, /becomes the signing key at \d{4}-/);
  t.is((await keys()).filter((k) => k.state === 'next').length, 1, 'a second rotate reuses the next key');
});

test.serial('keys rotate --now: new tokens carry the new kid within 2 s; a token signed before verifies with createRemoteJWKSet after', async (t) => {
  const jwks = createRemoteJWKSet(new URL(`${instance.url}/.well-known/jwks.json`));
  const old = await token();
  await jwtVerify(old, jwks, { issuer: TEST_ISSUER, typ: 'at+jwt' });
  const run = await instance.admin('keys', 'rotate', '--now', '--json');
  t.is(run.code, 0, run.stderr);
  const promoted = run.json<KeyView>();
  t.is(promoted.state, 'active');
  const fresh = await untilPropagated(token, (jwt) => kidOf(jwt) === promoted.kid);
  t.is(kidOf(fresh), promoted.kid);
  // the verifier's cached key set still verifies the old token, and fetches the new key for the new one
  t.is((await jwtVerify(old, jwks, { issuer: TEST_ISSUER, typ: 'at+jwt' })).payload.client_id, 'billing');
  t.is((await jwtVerify(fresh, jwks, { issuer: TEST_ISSUER, typ: 'at+jwt' })).payload.client_id, 'billing');
  const retired = (await keys()).find((k) => k.kid === kidOf(old))!;
  t.is(retired.state, 'retired');
  t.truthy(retired.publish_until);
  const text = await instance.admin('keys', 'rotate', '--now');
  t.regex(text.stdout, /may refuse its tokens for up to 30 s/);
});

test.serial('keys rotate --alg ES256 --now: tokens switch algorithm; both algorithms stay published', async (t) => {
  const run = await instance.admin('keys', 'rotate', '--alg', 'ES256', '--now', '--json');
  t.is(run.code, 0, run.stderr);
  const ec = run.json<KeyView>();
  t.is(ec.alg, 'ES256');
  const fresh = await untilPropagated(token, (jwt) => kidOf(jwt) === ec.kid);
  t.is(decodeProtectedHeader(fresh).alg, 'ES256');
  const algs = new Set((await jwksKids()).map((k) => k.alg));
  t.true(algs.has('RS256') && algs.has('ES256'));
  const bad = await instance.admin('keys', 'rotate', '--alg', 'HS256');
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^error: --alg must be one of/);
});

test.serial('keys revoke of the active key: out of the JWKS, its tokens inactive at introspection, new tokens from its successor', async (t) => {
  const signed = await token();
  const compromised = kidOf(signed)!;
  const run = await instance.admin('keys', 'revoke', compromised, '--json');
  t.is(run.code, 0, run.stderr);
  t.is(run.json<KeyView>().state, 'revoked');
  const kids = await untilPropagated(jwksKids, (k) => !k.some((key) => key.kid === compromised));
  t.false(kids.some((k) => k.kid === compromised));
  const fresh = await untilPropagated(token, (jwt) => kidOf(jwt) !== compromised);
  t.not(kidOf(fresh), compromised);
  const introspected = await instance.post('/introspect', { token: signed }, { authorization: basic('billing', secret) });
  t.deepEqual(await introspected.json(), { active: false });
  const events = (await instance.admin('audit', 'list', '--json')).json<{ action: string; details: Record<string, unknown> | null }[]>();
  t.true(events.some((e) => e.action === 'key.revoked' && e.details?.kid === compromised && e.details?.was === 'active'));
  const again = await instance.admin('keys', 'revoke', compromised);
  t.is(again.code, 1);
  t.regex(again.stderr, /revoked already/);
  t.is((await instance.admin('keys', 'revoke', 'unknown-kid')).code, 1);
});

test.serial('a kid that starts with "-" (one thumbprint in 64 does) is read as the kid, not as an option', async (t) => {
  const kid = '-0W_mmOyvgSSTtqdeY4ZZeSyQNyyb9s2v7uORPPylKI';
  for (const args of [[kid, '--json'], ['--json', kid], [kid]]) {
    const run = await instance.admin('keys', 'revoke', ...args);
    t.is(run.code, 1);
    t.regex(run.stderr, new RegExp(`no signing key "${kid}"`), args.join(' '));
  }
  const typo = await instance.admin('keys', 'revoke', 'some-kid', '--jsno');
  t.is(typo.code, 1);
  t.notRegex(typo.stderr, /no signing key/);
});

test.serial('keys list shows every state with the times of its life', async (t) => {
  const text = await instance.admin('keys', 'list');
  t.regex(text.stdout.split('\n')[0]!, /KID +ALG +STATE +CREATED_AT +PROMOTE_AT +ACTIVATED_AT +RETIRED_AT +PUBLISH_UNTIL +REMOVED_AT/);
  const states = new Set((await keys()).map((k) => k.state));
  for (const state of ['active', 'retired', 'revoked']) t.true(states.has(state), state);
});
