import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { ExternalIssuer, issuerKey } from '../helpers/external-issuer.ts';
import { basic, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';
import { granted } from '../helpers/responses.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const AUTHENTIK_EXAMPLE = 'request.context["oauth_jwt"]["iss"] == "https://my.issuer"';

let instance: Instance;
const secrets = new Map<string, string>();
const passwords = new Map<string, string>();
let partnerKey: KeyObject;
// Document sources: an issuer name and a key pair, no server of their own.
const myIssuer = new ExternalIssuer('https://my.issuer');
const otherIssuer = new ExternalIssuer('https://other.issuer');
const workloads = new ExternalIssuer('https://workloads.example');
const exchangeSource = new ExternalIssuer('https://exchange.example');
const bigClaims = new ExternalIssuer('https://big.example');

async function admin(...argv: string[]) {
  const run = await instance.admin(...argv);
  if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
  return run;
}

async function secretApp(clientId: string, ...extra: string[]): Promise<void> {
  const run = await admin('app', 'create', clientId, '--secret', '--scopes', 'read write audit', '--default-scopes', 'read', '--audiences', 'https://api.example', '--json', ...extra);
  secrets.set(clientId, run.json<{ client_secret: string }>().client_secret);
}

test.before(async () => {
  instance = await startInstance();
  for (const external of [myIssuer, otherIssuer, workloads, exchangeSource, bigClaims]) external.keys.push(await issuerKey('RS256'));
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  partnerKey = pair.privateKey;
  const pem = join(instance.dir, 'pkj.pem');
  writeFileSync(pem, pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const file = (external: ExternalIssuer) => external.jwksFile(instance.dir);
  const jwtApp = (clientId: string, grant: string) => ['app', 'create', clientId, '--grants', grant, '--scopes', 'read', '--default-scopes', 'read', '--audiences', 'https://api.example'];

  for (const clientId of ['cc-app', 'sa-app', 'mode-all', 'missing-key-app', 'wrong-type-app', 'computed-app', 'live-app', 'ip4-app', 'ip6-app', 'ip-out-app', 'ip6-out-app']) await secretApp(clientId);
  await secretApp('mode-any', '--policy-mode', 'any');
  for (const argv of [
    ['app', 'create', 'pkj-app', '--audiences', 'https://api.example'],
    ['cert', 'add', 'pkj-key', '--file', pem, '--app', 'pkj-app'],
    ['app', 'create', 'fed-app', '--audiences', 'https://api.example'],
    ['jwks', 'add', 'workloads', '--file', file(workloads), '--issuer', workloads.issuer, '--app', 'fed-app'],
    jwtApp('authentik-app', 'jwt-bearer'),
    jwtApp('authentik-return-app', 'jwt-bearer'),
    jwtApp('mirror-app', 'jwt-bearer'),
    jwtApp('cost-app', 'jwt-bearer'),
    jwtApp('deep-app', 'jwt-bearer'),
    ['jwks', 'add', 'my-issuer', '--file', file(myIssuer), '--issuer', myIssuer.issuer, '--app', 'authentik-app', '--app', 'authentik-return-app', '--app', 'mirror-app'],
    ['jwks', 'add', 'other-issuer', '--file', file(otherIssuer), '--issuer', otherIssuer.issuer, '--app', 'authentik-app', '--app', 'authentik-return-app'],
    ['jwks', 'add', 'big', '--file', file(bigClaims), '--issuer', bigClaims.issuer, '--app', 'cost-app', '--app', 'deep-app'],
    ['policy', 'add', 'deep-guard', '--app', 'deep-app', '--expression', 'size(request.context.oauth_jwt) > 0'],
    jwtApp('exchanger', 'token-exchange'),
    ['jwks', 'add', 'exchange', '--file', file(exchangeSource), '--issuer', exchangeSource.issuer, '--app', 'exchanger'],

    ['policy', 'add', 'no-write', '--app', 'cc-app', '--expression', '!("write" in request.context["oauth_scopes"])'],
    ['policy', 'add', 'deployers-only', '--app', 'sa-app', '--expression', 'service_account != null && "deployers" in service_account.groups'],
    ['policy', 'add', 'sa-claims', '--app', 'sa-app', '--kind', 'claims', '--expression', '{"permissions": service_account.groups.map(g, "group:" + g), "team": service_account.attributes.team}'],
    ['policy', 'add', 'prod-only', '--app', 'pkj-app', '--expression', 'request.context.oauth_jwt.env == "prod"'],
    ['policy', 'add', 'ci-namespace', '--app', 'fed-app', '--expression', 'request.context.oauth_jwt.sub.startsWith("system:serviceaccount:ci:") && request.context.oauth_grant_type == "client_credentials"'],
    ['policy', 'add', 'authentik', '--app', 'authentik-app', '--expression', AUTHENTIK_EXAMPLE],
    ['policy', 'add', 'authentik-return', '--app', 'authentik-return-app', '--expression', `return ${AUTHENTIK_EXAMPLE}`],
    ['policy', 'add', 'deployers', '--app', 'exchanger', '--expression', `request.context.oauth_grant_type == "${TOKEN_EXCHANGE}" && request.context.oauth_jwt.roles.exists(r, r == "deploy")`],
    ['policy', 'add', 'exchange-claims', '--app', 'exchanger', '--kind', 'claims', '--expression', '{"repository": request.context.oauth_jwt.repository, "roles": request.context.oauth_jwt.roles}'],
    ['policy', 'add', 'wants-read', '--app', 'mode-all', '--app', 'mode-any', '--expression', '"read" in request.context.oauth_scopes'],
    ['policy', 'add', 'wants-write', '--app', 'mode-all', '--app', 'mode-any', '--expression', '"write" in request.context.oauth_scopes'],
    ['policy', 'add', 'missing-key', '--app', 'missing-key-app', '--expression', AUTHENTIK_EXAMPLE],
    ['policy', 'add', 'wrong-type', '--app', 'wrong-type-app', '--expression', 'client.name > 3'],
    ['policy', 'add', 'computed-sub', '--app', 'computed-app', '--kind', 'claims', '--expression', '{client.client_id == "computed-app" ? "sub" : "team": "forged"}'],
    ['policy', 'add', 'mirror', '--app', 'mirror-app', '--kind', 'claims', '--expression', 'request.context["oauth_jwt"]'],
    ['policy', 'add', 'cost-guard', '--app', 'cost-app', '--expression', 'request.context.oauth_jwt.big.all(a, request.context.oauth_jwt.big.all(b, request.context.oauth_jwt.big.exists(c, c >= a && c >= b)))'],
    ['policy', 'add', 'loopback-v4', '--app', 'ip4-app', '--expression', 'ip_in(request.ip, "127.0.0.0/8")'],
    ['policy', 'add', 'caller-ip', '--app', 'ip4-app', '--kind', 'claims', '--expression', '{"caller_ip": request.ip}'],
    ['policy', 'add', 'mapped-v6', '--app', 'ip6-app', '--expression', 'ip_in(request.ip, "::ffff:127.0.0.0/104") && !ip_in(request.ip, "2001:db8::/32")'],
    ['policy', 'add', 'private-v4', '--app', 'ip-out-app', '--expression', 'ip_in(request.ip, "10.0.0.0/8") || ip_in(request.ip, "192.168.0.0/16")'],
    ['policy', 'add', 'v6-only', '--app', 'ip6-out-app', '--expression', 'ip_in(request.ip, "::1/128") || ip_in(request.ip, "2001:db8::/32")'],
  ]) {
    await admin(...argv);
  }
  for (const [username, groups] of [['deployer', 'deployers,ops'], ['viewer', 'viewers']] as const) {
    const run = await admin('service-account', 'create', username, '--app', 'sa-app', '--groups', groups, '--permissions', 'reports:read', '--json');
    passwords.set(username, run.json<{ app_password: string }>().app_password);
  }
  // The admin CLI has no option for service-account attributes; they are written to the database
  // directly, with the state version moved as an admin change would.
  const db = new Database(instance.config.databaseFile);
  try {
    db.prepare('UPDATE service_accounts SET attributes = ? WHERE username = ?').run(JSON.stringify({ team: 'platform' }), 'deployer');
    db.prepare('UPDATE state_version SET version = version + 1 WHERE id = 1').run();
  } finally {
    db.close();
  }
});
test.after.always(() => instance?.close());

type Body = Record<string, string>;


/** A policy denial: invalid_grant naming the policy, and no token. */
async function deniedBy(t: ExecutionContext, res: Response, policy: string | RegExp): Promise<Body> {
  const body = (await res.json()) as Body;
  t.is(res.status, 400, JSON.stringify(body));
  t.is(body.error, 'invalid_grant');
  if (typeof policy === 'string') t.is(body.error_description, `denied by policy ${policy}`);
  else t.regex(body.error_description ?? '', policy);
  t.is(body.access_token, undefined);
  return body;
}

const withSecret = (clientId: string, form: Record<string, string> = {}) =>
  instance.token({ grant_type: 'client_credentials', ...form }, { authorization: basic(clientId, secrets.get(clientId)!) });
const asServiceAccount = (username: string) =>
  instance.token({ grant_type: 'client_credentials', client_id: 'sa-app', username, password: passwords.get(username)! });
const bearer = (clientId: string, assertion: string) => instance.token({ grant_type: JWT_BEARER, client_id: clientId, assertion });
const exchange = async (claims: JWTPayload) =>
  instance.token({ grant_type: TOKEN_EXCHANGE, subject_token: await exchangeSource.sign(claims), subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' });

function pkjAssertion(claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: 'pkj-app', sub: 'pkj-app', aud: TEST_ISSUER, iat: now, exp: now + 60, jti: randomUUID(), ...claims }).setProtectedHeader({ alg: 'ES256' }).sign(partnerKey);
}
const asPkj = async (claims: JWTPayload) =>
  instance.token({ grant_type: 'client_credentials', client_id: 'pkj-app', client_assertion_type: ASSERTION_TYPE, client_assertion: await pkjAssertion(claims) });
const asWorkload = async (claims: JWTPayload) =>
  instance.token({ grant_type: 'client_credentials', client_id: 'fed-app', client_assertion_type: ASSERTION_TYPE, client_assertion: await workloads.sign(claims) });

type AuditView = { action: string; outcome: string; client_id: string | null; subject: string | null; reason: string | null; details: Record<string, unknown> | null };

async function auditOf(clientId: string): Promise<AuditView[]> {
  await instance.serving.deps.writer.flush();
  const run = await instance.admin('audit', 'list', '--app', clientId, '--limit', '100000', '--json');
  if (run.code !== 0) throw new Error(run.stderr);
  return run.json<AuditView[]>();
}

// ── each grant, allowed and denied ─────────────────────────────────────────────────────────

test('client_credentials with a client secret is allowed or denied by the policy', async (t) => {
  const claims = await granted(t, await withSecret('cc-app', { scope: 'read' }));
  t.is(claims.client_id, 'cc-app');
  t.is(claims.scope, 'read');
  await granted(t, await withSecret('cc-app'));
  await deniedBy(t, await withSecret('cc-app', { scope: 'read write' }), 'no-write');
  await deniedBy(t, await withSecret('cc-app', { scope: 'write' }), 'no-write');
});

test('a denial names the policy, never its expression', async (t) => {
  const body = await deniedBy(t, await withSecret('cc-app', { scope: 'write' }), 'no-write');
  t.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  for (const fragment of ['oauth_scopes', 'request.context', '"write" in', 'returned false']) t.false(JSON.stringify(body).includes(fragment), fragment);
});

test('a service account is allowed or denied by a policy on its groups', async (t) => {
  const claims = await granted(t, await asServiceAccount('deployer'));
  t.is(claims.sub, 'deployer');
  t.deepEqual(claims.groups, ['deployers', 'ops']);
  await deniedBy(t, await asServiceAccount('viewer'), 'deployers-only');
});

test("a claims policy maps a service account's groups to permissions and its attributes to claims", async (t) => {
  const claims = await granted(t, await asServiceAccount('deployer'));
  // the policy's permissions replace the account's own
  t.deepEqual(claims.permissions, ['group:deployers', 'group:ops']);
  t.is(claims.team, 'platform');
  t.is(claims.sub, 'deployer');
  t.is(claims.client_id, 'sa-app');
});

test('private_key_jwt is allowed or denied by a policy on its assertion claims', async (t) => {
  const claims = await granted(t, await asPkj({ env: 'prod' }));
  t.is(claims.sub, 'pkj-app');
  t.is(claims.env, undefined);
  await deniedBy(t, await asPkj({ env: 'dev' }), 'prod-only');
  // no env claim at all: evaluating the policy fails, and a failure denies
  await deniedBy(t, await asPkj({}), 'prod-only');
});

test('a federated client assertion is allowed or denied by a policy on its subject and the grant type', async (t) => {
  const claims = await granted(t, await asWorkload({ sub: 'system:serviceaccount:ci:builder' }));
  t.is(claims.sub, 'system:serviceaccount:ci:builder');
  t.is(claims.src_iss, 'https://workloads.example');
  await deniedBy(t, await asWorkload({ sub: 'system:serviceaccount:prod:intruder' }), 'ci-namespace');
});

test("jwt-bearer: authentik's example works as written", async (t) => {
  const claims = await granted(t, await bearer('authentik-app', await myIssuer.sign({ sub: 'job-1' })));
  t.is(claims.src_iss, 'https://my.issuer');
  t.is(claims.client_id, 'authentik-app');
  // verified just as well, by another source bound to the same application, but from another issuer
  await deniedBy(t, await bearer('authentik-app', await otherIssuer.sign({ sub: 'job-1' })), 'authentik');
});

test("jwt-bearer: authentik's example works with a leading return", async (t) => {
  await granted(t, await bearer('authentik-return-app', await myIssuer.sign()));
  await deniedBy(t, await bearer('authentik-return-app', await otherIssuer.sign()), 'authentik-return');
});

test('token-exchange is allowed or denied by a policy on the subject token, and claims map into the token', async (t) => {
  const claims = await granted(t, await exchange({ sub: 'job-9', roles: ['deploy', 'read'], repository: 'acme/app', environment: 'prod' }));
  t.is(claims.sub, 'job-9');
  t.is(claims.repository, 'acme/app');
  t.deepEqual(claims.roles, ['deploy', 'read']);
  // input claims reach the token only through a claims policy
  t.is(claims.environment, undefined);
  t.is(claims.iss, TEST_ISSUER);
  t.is(claims.src_iss, 'https://exchange.example');
  await deniedBy(t, await exchange({ roles: ['read'], repository: 'acme/app' }), 'deployers');
  await deniedBy(t, await exchange({ repository: 'acme/app' }), 'deployers');
  await deniedBy(t, await exchange({ roles: 'deploy', repository: 'acme/app' }), 'deployers');
});

test('a claims policy that fails on the subject token denies even when the allow policy passed', async (t) => {
  await deniedBy(t, await exchange({ roles: ['deploy'] }), 'exchange-claims');
});

// ── modes ──────────────────────────────────────────────────────────────────────────────────

test('mode all: every bound policy must allow', async (t) => {
  await deniedBy(t, await withSecret('mode-all', { scope: 'read' }), 'wants-write');
  await deniedBy(t, await withSecret('mode-all', { scope: 'write' }), 'wants-read');
  t.is((await granted(t, await withSecret('mode-all', { scope: 'read write' }))).scope, 'read write');
});

test('mode any: one bound policy allowing is enough', async (t) => {
  t.is((await granted(t, await withSecret('mode-any', { scope: 'read' }))).scope, 'read');
  t.is((await granted(t, await withSecret('mode-any', { scope: 'write' }))).scope, 'write');
  await granted(t, await withSecret('mode-any', { scope: 'read write' }));
  await deniedBy(t, await withSecret('mode-any', { scope: 'audit' }), /^denied by policy wants-(read|write)$/);
});

// ── errors deny ────────────────────────────────────────────────────────────────────────────

test('a missing key denies: the authentik example on a caller without an input JWT', async (t) => {
  await deniedBy(t, await withSecret('missing-key-app'), 'missing-key');
  const denied = (await auditOf('missing-key-app')).find((e) => e.action === 'token.denied');
  t.regex(denied?.reason ?? '', /^policy missing-key: .*iss/);
});

test('a value of the wrong type denies', async (t) => {
  await deniedBy(t, await withSecret('wrong-type-app'), 'wrong-type');
  const denied = (await auditOf('wrong-type-app')).find((e) => e.action === 'token.denied');
  t.regex(denied?.reason ?? '', /^policy wrong-type: .*overload/);
});

// ── protected claims ───────────────────────────────────────────────────────────────────────

test('a protected claim named by a computed key is refused at request time', async (t) => {
  await deniedBy(t, await withSecret('computed-app'), 'computed-sub');
  const denied = (await auditOf('computed-app')).find((e) => e.action === 'token.denied');
  t.is(denied?.reason, 'policy computed-sub: claim sub is protected');
});

test('a claims map built from the input JWT cannot carry protected claims into the token', async (t) => {
  await deniedBy(t, await bearer('mirror-app', await myIssuer.sign({ sub: 'someone-else' })), 'mirror');
  const denied = (await auditOf('mirror-app')).find((e) => e.action === 'token.denied');
  t.regex(denied?.reason ?? '', /^policy mirror: claim (iss|sub|aud|exp|iat|jti) is protected$/);
});

// ── ip_in ──────────────────────────────────────────────────────────────────────────────────

test('ip_in with an IPv4 range sees the caller at 127.0.0.1', async (t) => {
  const claims = await granted(t, await withSecret('ip4-app'));
  t.is(claims.caller_ip, '127.0.0.1');
  await deniedBy(t, await withSecret('ip-out-app'), 'private-v4');
});

test('ip_in with IPv6 ranges: IPv4-mapped ranges match the IPv4 caller, others do not', async (t) => {
  await granted(t, await withSecret('ip6-app'));
  // loopback over IPv4 is not ::1
  await deniedBy(t, await withSecret('ip6-out-app'), 'v6-only');
});

// ── cost ───────────────────────────────────────────────────────────────────────────────────

test('three nested comprehensions over a 2000-element claim list are stopped by the cost limit', async (t) => {
  const big = Array.from({ length: 2000 }, (_, i) => i);
  await deniedBy(t, await bearer('cost-app', await bigClaims.sign({ big })), 'cost-guard');
  const denied = (await auditOf('cost-app')).find((e) => e.action === 'token.denied');
  t.regex(denied?.reason ?? '', /^policy cost-guard: cost limit/);
  // the server still answers, and the same policy allows a small list
  await granted(t, await bearer('cost-app', await bigClaims.sign({ big: [3, 1, 2] })));
});

test('a validly signed JWT with claims nested 3000 deep is refused as invalid_grant, never a 500', async (t) => {
  const res = await bearer('deep-app', await bigClaims.signText(`{"deep":${'['.repeat(3000)}1${']'.repeat(3000)}}`));
  const body = (await res.json()) as { error: string };
  t.is(res.status, 400, JSON.stringify(body));
  t.is(body.error, 'invalid_grant');
  const denied = (await auditOf('deep-app')).find((e) => e.action === 'token.denied');
  t.regex(denied?.reason ?? '', /^assertion: payload nests deeper than 20 levels$/);
  // the same source and policy still serve a JWT of ordinary shape
  await granted(t, await bearer('deep-app', await bigClaims.signText('{"deep":[[[[1]]]]}')));
});

// ── audit ──────────────────────────────────────────────────────────────────────────────────

test('a denial is audited as token.denied with details.policy and the reason', async (t) => {
  await deniedBy(t, await withSecret('cc-app', { scope: 'write' }), 'no-write');
  await deniedBy(t, await asServiceAccount('viewer'), 'deployers-only');
  const ccDenied = (await auditOf('cc-app')).find((e) => e.action === 'token.denied');
  t.like(ccDenied, { outcome: 'failure', client_id: 'cc-app', reason: 'policy no-write: returned false' });
  t.like(ccDenied?.details, { policy: 'no-write', error: 'invalid_grant', grant_type: 'client_credentials' });
  t.is(ccDenied?.details?.jti, undefined);
  const saDenied = (await auditOf('sa-app')).find((e) => e.action === 'token.denied' && e.subject === 'viewer');
  t.like(saDenied?.details, { policy: 'deployers-only', error: 'invalid_grant' });
  // an issued token's event names no policy
  const issued = (await auditOf('cc-app')).find((e) => e.action === 'token.issued');
  t.truthy(issued);
  t.is(issued?.details?.policy, undefined);
});

// ── propagation ────────────────────────────────────────────────────────────────────────────

test.serial('adding, disabling, changing, unbinding and removing a policy reach the running server within 2 seconds', async (t) => {
  const status = async (scope = 'read') => (await withSecret('live-app', { scope })).status;
  t.is(await status(), 200);

  await admin('policy', 'add', 'live-gate', '--app', 'live-app', '--expression', 'false');
  t.is(await untilPropagated(() => status(), (s) => s === 400), 400);
  await deniedBy(t, await withSecret('live-app'), 'live-gate');

  await admin('policy', 'update', 'live-gate', '--disable');
  t.is(await untilPropagated(() => status(), (s) => s === 200), 200);

  await admin('policy', 'update', 'live-gate', '--enable');
  t.is(await untilPropagated(() => status(), (s) => s === 400), 400);

  await admin('policy', 'update', 'live-gate', '--expression', '"read" in request.context.oauth_scopes');
  t.is(await untilPropagated(() => status('read'), (s) => s === 200), 200);
  t.is(await status('write'), 400);

  await admin('policy', 'update', 'live-gate', '--remove-app', 'live-app');
  t.is(await untilPropagated(() => status('write'), (s) => s === 200), 200);

  await admin('policy', 'update', 'live-gate', '--app', 'live-app');
  t.is(await untilPropagated(() => status('write'), (s) => s === 400), 400);

  await admin('policy', 'remove', 'live-gate', '--force');
  t.is(await untilPropagated(() => status('write'), (s) => s === 200), 200);
});
