// POST /introspect (RFC 7662) and its signed answer (RFC 9701), over HTTP against the real server.
import test from 'ava';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { mintAccessToken } from '../../src/tokens/access-token.ts';
import { basic, createApp, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let instance: Instance;
const secrets: Record<string, string> = {};
const appKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

test.before(async () => {
  instance = await startInstance();
  // billing gets tokens for https://api.example; api-rs is the resource server of that API; elsewhere serves another
  secrets.billing = await createApp(instance, 'billing');
  secrets['api-rs'] = await rsApp('api-rs', 'https://api.example');
  secrets.elsewhere = await rsApp('elsewhere', 'https://unrelated.example');
  const file = join(instance.dir, 'keyed.pem');
  writeFileSync(file, appKey.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const created = await instance.admin('app', 'create', 'keyed', '--audiences', 'https://api.example');
  if (created.code !== 0) throw new Error(created.stderr);
  const cert = await instance.admin('cert', 'add', 'keyed-key', '--file', file, '--app', 'keyed');
  if (cert.code !== 0) throw new Error(cert.stderr);
});
test.after.always(() => instance?.close());

async function rsApp(clientId: string, audience: string): Promise<string> {
  const run = await instance.admin('app', 'create', clientId, '--secret', '--audiences', audience, '--json');
  if (run.code !== 0) throw new Error(run.stderr);
  return run.json<{ client_secret: string }>().client_secret;
}

async function tokenFor(clientId: string, extra: Record<string, string> = {}): Promise<string> {
  const response = await instance.token({ grant_type: 'client_credentials', ...extra }, { authorization: basic(clientId, secrets[clientId]!) });
  if (response.status !== 200) throw new Error(await response.text());
  return ((await response.json()) as { access_token: string }).access_token;
}

function introspect(caller: string, token: string, headers: Record<string, string> = {}, extra: Record<string, string> = {}): Promise<Response> {
  return instance.post('/introspect', { token, ...extra }, { authorization: basic(caller, secrets[caller]!), ...headers });
}

async function answer(caller: string, token: string, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await introspect(caller, token, {}, extra);
  if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

async function auditRows(clientId: string): Promise<{ action: string; outcome: string; reason: string | null; details: Record<string, unknown> | null }[]> {
  return (await instance.admin('audit', 'list', '--app', clientId, '--json')).json();
}

async function reasonRecorded(clientId: string, reason: string): Promise<boolean> {
  const rows = await untilPropagated(() => auditRows(clientId), (r) => r.some((e) => e.action === 'token.introspected' && e.reason === reason), 5000);
  return rows.some((e) => e.action === 'token.introspected' && e.reason === reason && e.outcome === 'failure');
}

test('the application a token was issued to sees it active, with every claim and token_type Bearer', async (t) => {
  const token = await tokenFor('billing', { scope: 'read write' });
  const response = await introspect('billing', token);
  t.is(response.status, 200);
  t.is(response.headers.get('cache-control'), 'no-store');
  t.is(response.headers.get('pragma'), 'no-cache');
  t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  const claims = decodeJwt(token);
  t.true(body.active);
  t.is(body.token_type, 'Bearer');
  for (const name of ['scope', 'client_id', 'sub', 'aud', 'iss', 'exp', 'iat', 'nbf', 'jti']) t.deepEqual(body[name], claims[name], name);
  t.is(body.scope, 'read write');
  t.is(body.iss, TEST_ISSUER);
});

test('a resource server whose audience the token names sees it active; another application does not', async (t) => {
  const token = await tokenFor('billing');
  const seen = await answer('api-rs', token);
  t.true(seen.active);
  t.is(seen.client_id, 'billing');
  t.deepEqual(await answer('elsewhere', token), { active: false });
  t.true(await reasonRecorded('elsewhere', 'issued to another application, for no audience of the caller'));
});

test('a token for another audience of the same application is not the resource server\'s business', async (t) => {
  const token = await tokenFor('billing', { resource: 'https://other.example' });
  t.deepEqual(await answer('api-rs', token), { active: false });
  t.true((await answer('billing', token)).active);
});

test('garbage, a tampered token and a token signed by a key the issuer does not publish are inactive, with no hint why', async (t) => {
  const token = await tokenFor('billing');
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = decodeJwt(token);
  const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url')}.${signature}`;
  // the same kid and claims, signed by a key of the attacker's
  const foreignKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const kid = decodeProtectedHeader(token).kid!;
  const foreign = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(foreignKey);
  const unknownKid = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'not-ours', typ: 'at+jwt' }).sign(foreignKey);
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid, typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
  const hs256 = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' }).sign(Buffer.from(kid));
  const cases = { garbage: 'not-a-token', empty_parts: '..', tampered, foreign, unknownKid, unsigned, hs256, huge: 'a'.repeat(20_000), json: '{"active":true}' };
  for (const [name, value] of Object.entries(cases)) {
    const response = await introspect('billing', value);
    t.is(response.status, 200, name);
    t.is(await response.text(), '{"active":false}', name);
  }
  t.true(await reasonRecorded('billing', 'signature does not verify'));
  t.true(await reasonRecorded('billing', 'not signed by a key this issuer publishes'));
  t.true(await reasonRecorded('billing', 'not a signed JWT'));
});

test('an expired token is inactive', async (t) => {
  const key = instance.serving.deps.keystore().active!;
  const hourAgo = Date.now() - 3_600_000;
  const expired = await mintAccessToken({ issuer: TEST_ISSUER, subject: 'billing', audience: ['https://api.example'], clientId: 'billing', scopes: ['read'], ttlSeconds: 600 }, key, hourAgo);
  t.deepEqual(await answer('billing', expired.token), { active: false });
  t.true(await reasonRecorded('billing', 'expired'));
  // the same, minted now, is active: the expiry is what made the difference
  const fresh = await mintAccessToken({ issuer: TEST_ISSUER, subject: 'billing', audience: ['https://api.example'], clientId: 'billing', scopes: ['read'], ttlSeconds: 600 }, key);
  t.true((await answer('billing', fresh.token)).active);
});

test('a token of another issuer signed with this issuer\'s key is inactive (iss is checked)', async (t) => {
  const key = instance.serving.deps.keystore().active!;
  const other = await mintAccessToken({ issuer: 'https://elsewhere.example', subject: 'billing', audience: ['https://api.example'], clientId: 'billing', scopes: [], ttlSeconds: 600 }, key);
  t.deepEqual(await answer('billing', other.token), { active: false });
});

test('an RFC 9701 answer is a JWT signed with the active key, verified with jose against the JWKS', async (t) => {
  const token = await tokenFor('billing');
  const response = await introspect('api-rs', token, { accept: 'application/token-introspection+jwt' });
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), 'application/token-introspection+jwt');
  const jwt = await response.text();
  const jwks = (await (await fetch(`${instance.url}/.well-known/jwks.json`)).json()) as { keys: [] };
  const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: TEST_ISSUER, audience: 'api-rs', typ: 'token-introspection+jwt' });
  t.is(protectedHeader.typ, 'token-introspection+jwt');
  const inner = payload.token_introspection as Record<string, unknown>;
  t.true(inner.active);
  t.is(inner.jti, decodeJwt(token).jti);
  t.is(payload.sub, undefined);
  t.is(payload.exp, undefined);
  // an inactive answer is signed the same way
  const inactive = await introspect('api-rs', 'garbage', { accept: 'application/token-introspection+jwt' });
  t.deepEqual((await jwtVerify(await inactive.text(), createLocalJWKSet(jwks))).payload.token_introspection, { active: false });
  // and the signed answer, presented as a token, is no access token
  t.deepEqual(await answer('api-rs', jwt), { active: false });
  t.true(await reasonRecorded('api-rs', 'not an access token (typ)'));
});

test('Accept decides the form: JSON by default, for */* and when JSON is preferred', async (t) => {
  const token = await tokenFor('billing');
  for (const accept of ['*/*', 'application/json', 'application/json, application/token-introspection+jwt;q=0.5', 'text/html']) {
    const response = await introspect('billing', token, { accept });
    t.regex(response.headers.get('content-type') ?? '', /^application\/json/, accept);
    t.true(((await response.json()) as { active: boolean }).active, accept);
  }
  const preferred = await introspect('billing', token, { accept: 'application/json;q=0.1, application/token-introspection+jwt' });
  t.is(preferred.headers.get('content-type'), 'application/token-introspection+jwt');
});

test('private_key_jwt authenticates at /introspect; token_type_hint is accepted whatever it says', async (t) => {
  const token = await tokenFor('billing');
  for (const hint of ['access_token', 'refresh_token', 'something_else']) {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: 'keyed', sub: 'keyed', aud: TEST_ISSUER, iat: now, exp: now + 60, jti: randomUUID() }).setProtectedHeader({ alg: 'ES256' }).sign(appKey.privateKey);
    const response = await instance.post('/introspect', { token, token_type_hint: hint, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
    t.is(response.status, 200, hint);
    t.true(((await response.json()) as { active: boolean }).active, hint);
  }
});

test('401 invalid_client without credentials or with a wrong secret; WWW-Authenticate only when the Authorization header was used', async (t) => {
  const token = await tokenFor('billing');
  const none = await instance.post('/introspect', { token });
  t.is(none.status, 401);
  t.is(((await none.json()) as { error: string }).error, 'invalid_client');
  t.is(none.headers.get('www-authenticate'), null);
  const wrongBasic = await instance.post('/introspect', { token }, { authorization: basic('billing', `${secrets.billing!.slice(0, -4)}AAAA`) });
  t.is(wrongBasic.status, 401);
  t.regex(wrongBasic.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  const wrongPost = await instance.post('/introspect', { token, client_id: 'billing', client_secret: `${secrets.billing!.slice(0, -4)}AAAA` });
  t.is(wrongPost.status, 401);
  t.is(wrongPost.headers.get('www-authenticate'), null);
  const idOnly = await instance.post('/introspect', { token, client_id: 'billing' });
  t.is(idOnly.status, 401);
  // the body never says whether the token was any good
  for (const response of [none, wrongBasic, wrongPost, idOnly]) t.is(response.headers.get('cache-control'), 'no-store');
});

test('service-account credentials and a missing token are refused; the token never travels in the URL', async (t) => {
  const token = await tokenFor('billing');
  const account = await instance.admin('service-account', 'create', 'reporter', '--app', 'billing', '--json');
  t.is(account.code, 0, account.stderr);
  const password = (await instance.admin('app-password', 'create', 'reporter', '--json')).json<{ app_password: string }>().app_password;
  const asAccount = await instance.post('/introspect', { token, client_id: 'billing', username: 'reporter', password });
  t.is(asAccount.status, 401);
  t.is(((await asAccount.json()) as { error: string }).error, 'invalid_client');
  const missing = await instance.post('/introspect', {}, { authorization: basic('billing', secrets.billing!) });
  t.is(missing.status, 400);
  t.deepEqual(await missing.json(), { error: 'invalid_request', error_description: 'token is required' });
  const inQuery = await fetch(`${instance.url}/introspect?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('billing', secrets.billing!) }, body: '' });
  t.is(inQuery.status, 400);
  const twice = await instance.post('/introspect', `token=${token}&token=${token}`, { authorization: basic('billing', secrets.billing!) });
  t.is(twice.status, 400);
  const get = await fetch(`${instance.url}/introspect`);
  t.is(get.status, 405);
  t.is(get.headers.get('allow'), 'POST');
  const json = await fetch(`${instance.url}/introspect`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic('billing', secrets.billing!) }, body: JSON.stringify({ token }) });
  t.is(json.status, 400);
});

test('an application that may not use a method is refused at /introspect as at /token', async (t) => {
  const secret = await rsApp('basic-only-rs', 'https://api.example');
  t.is((await instance.admin('app', 'update', 'basic-only-rs', '--auth-methods', 'client_secret_basic')).code, 0);
  const token = await tokenFor('billing');
  const viaBasic = await untilPropagated(() => instance.post('/introspect', { token }, { authorization: basic('basic-only-rs', secret) }), (r) => r.status === 200);
  t.is(viaBasic.status, 200);
  const viaPost = await untilPropagated(() => instance.post('/introspect', { token, client_id: 'basic-only-rs', client_secret: secret }), (r) => r.status === 401);
  t.is(viaPost.status, 401);
  const rows = await untilPropagated(() => auditRows('basic-only-rs'), (r) => r.some((e) => e.reason === 'client_secret_post is not allowed for this application'), 5000);
  t.true(rows.some((e) => e.action === 'token.introspected' && e.outcome === 'failure' && e.reason === 'client_secret_post is not allowed for this application'));
});

test('a disabled application\'s tokens are inactive, and active again once it is enabled', async (t) => {
  secrets.pausable = await createApp(instance, 'pausable');
  const token = await tokenFor('pausable');
  t.true((await answer('api-rs', token)).active);
  t.is((await instance.admin('app', 'disable', 'pausable')).code, 0);
  t.deepEqual(await untilPropagated(() => answer('api-rs', token), (a) => a.active === false), { active: false });
  t.true(await reasonRecorded('api-rs', 'the application it was issued to is disabled'));
  t.is((await instance.admin('app', 'enable', 'pausable')).code, 0);
  t.true((await untilPropagated(() => answer('api-rs', token), (a) => a.active === true)).active);
});

test('a token of a deleted application stays inactive when its client_id is created again', async (t) => {
  secrets.reborn = await createApp(instance, 'reborn');
  const token = await tokenFor('reborn');
  t.is((await instance.admin('app', 'delete', 'reborn')).code, 0);
  const deletedAt = Date.now();
  t.deepEqual(await untilPropagated(() => answer('api-rs', token), (a) => a.active === false), { active: false });
  secrets.reborn = await createApp(instance, 'reborn');
  // a server that had not yet seen the deletion could still issue under the old secret for up to 2 s:
  // such a token, issued after the new application was created, is not the new one's either
  const key = instance.serving.deps.keystore().active!;
  const stale = await mintAccessToken({ issuer: TEST_ISSUER, subject: 'reborn', audience: ['https://api.example'], clientId: 'reborn', scopes: [], ttlSeconds: 600 }, key, deletedAt + 1500);
  // tokens issued more than 3 s after the deletion are the new application's (iat has whole seconds: one more)
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, deletedAt + 4100 - Date.now())));
  const fresh = await untilPropagated(() => tokenFor('reborn'), () => true);
  t.deepEqual(await answer('reborn', token), { active: false });
  t.deepEqual(await answer('api-rs', token), { active: false });
  t.deepEqual(await answer('reborn', stale.token), { active: false });
  t.true(await reasonRecorded('reborn', 'revoked'));
  t.true((await answer('reborn', fresh)).active);
});

test('a service account\'s token is inactive while the account is disabled, and once it is deleted', async (t) => {
  secrets.payroll = await createApp(instance, 'payroll');
  const created = await instance.admin('service-account', 'create', 'payroll-job', '--app', 'payroll', '--permissions', 'pay', '--json');
  t.is(created.code, 0, created.stderr);
  const password = created.json<{ app_password: string }>().app_password;
  const issue = async () => {
    const response = await untilPropagated(() => instance.token({ grant_type: 'client_credentials', client_id: 'payroll', username: 'payroll-job', password }), (r) => r.status === 200);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const token = await issue();
  const seen = await answer('api-rs', token);
  t.true(seen.active);
  t.is(seen.sub, 'payroll-job');
  t.deepEqual(seen.permissions, ['pay']);
  t.is((await instance.admin('service-account', 'disable', 'payroll-job')).code, 0);
  t.deepEqual(await untilPropagated(() => answer('api-rs', token), (a) => a.active === false), { active: false });
  t.true(await reasonRecorded('api-rs', 'the service account it was issued to is disabled'));
  t.is((await instance.admin('service-account', 'enable', 'payroll-job')).code, 0);
  t.true((await untilPropagated(() => answer('api-rs', token), (a) => a.active === true)).active);
  t.is((await instance.admin('service-account', 'delete', 'payroll-job')).code, 0);
  t.deepEqual(await untilPropagated(() => answer('api-rs', token), (a) => a.active === false), { active: false });
  t.true(await reasonRecorded('api-rs', 'the service account it was issued to no longer exists'));
  // the application's own token is untouched by what happens to its service accounts
  t.true((await answer('api-rs', await tokenFor('payroll'))).active);
});

test('an active answer writes no audit event; an inactive one does, never with the token', async (t) => {
  secrets.quiet = await createApp(instance, 'quiet');
  const token = await tokenFor('quiet');
  for (let i = 0; i < 3; i++) t.true((await answer('quiet', token)).active);
  t.deepEqual(await answer('quiet', `${token.slice(0, -6)}AAAAAA`), { active: false });
  const rows = await untilPropagated(() => auditRows('quiet'), (r) => r.some((e) => e.action === 'token.introspected'), 5000);
  const introspections = rows.filter((e) => e.action === 'token.introspected');
  t.is(introspections.length, 1);
  t.is(introspections[0]!.reason, 'signature does not verify');
  t.false(JSON.stringify(rows).includes(token.split('.')[2]!.slice(0, 20)));
});

test('discovery names both endpoints with their authentication methods and algorithms', async (t) => {
  const metadata = (await (await fetch(`${instance.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
  t.is(metadata.introspection_endpoint, `${TEST_ISSUER}/introspect`);
  t.is(metadata.revocation_endpoint, `${TEST_ISSUER}/revoke`);
  for (const prefix of ['introspection', 'revocation']) {
    t.deepEqual(metadata[`${prefix}_endpoint_auth_methods_supported`], ['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    t.true((metadata[`${prefix}_endpoint_auth_signing_alg_values_supported`] as string[]).includes('ES256'));
  }
  t.deepEqual(metadata.introspection_signing_alg_values_supported, ['RS256', 'PS256', 'ES256', 'EdDSA']);
});
