import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { ExternalIssuer, issuerKey } from '../helpers/external-issuer.ts';
import { basic, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';
import { granted } from '../helpers/responses.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
let instance: Instance;
let cluster: ExternalIssuer;
let discovered: ExternalIssuer;
let buildsSecret: string;
// Document sources: an issuer name and a key pair, no server of their own.
const ci = new ExternalIssuer('https://ci.example');
const gateway = new ExternalIssuer('https://gateway-issuer.example');
const strict = new ExternalIssuer('https://strict.example');
const plain = new ExternalIssuer('https://plain.example');
const doomed = new ExternalIssuer('https://doomed.example');
const elsewhere = new ExternalIssuer('https://elsewhere.example');
const byAlgorithm = new Map(ALGORITHMS.map((alg) => [alg, new ExternalIssuer(`https://${alg.toLowerCase()}.example`)]));

test.before(async () => {
  instance = await startInstance({ JWKS_ALLOW_PRIVATE_NETWORKS: 'true' });
  cluster = await ExternalIssuer.start({ issuer: 'https://kubernetes.default.svc' });
  discovered = await ExternalIssuer.start();
  for (const external of [ci, gateway, strict, plain, doomed, elsewhere]) external.keys.push(await issuerKey('RS256'));
  for (const [alg, external] of byAlgorithm) external.keys.push(await issuerKey(alg));
  const file = (external: ExternalIssuer) => external.jwksFile(instance.dir);

  const builds = await instance.admin('app', 'create', 'builds', '--secret', '--json', '--grants', 'jwt-bearer,client_credentials', '--scopes', 'deploy read', '--default-scopes', 'read', '--audiences', 'https://api.example,https://other.example');
  if (builds.code !== 0) throw new Error(builds.stderr);
  buildsSecret = builds.json<{ client_secret: string }>().client_secret;
  const apps = ['shared-a', 'shared-b', 'gateway-app', 'strict-app', 'plain-app', 'doomed-app', 'algs', 'discovered-app'];
  for (const argv of [
    ...apps.map((app) => ['app', 'create', app, '--grants', 'jwt-bearer', '--audiences', 'https://api.example']),
    ['app', 'create', 'cc-only', '--grants', 'client_credentials', '--audiences', 'https://api.example'],
    ['jwks', 'add', 'cluster', '--url', cluster.jwksUrl, '--issuer', cluster.issuer, '--app', 'builds', '--subject-prefix', 'k8s:', '--max-lifetime', '600'],
    ['jwks', 'add', 'ci', '--file', file(ci), '--issuer', ci.issuer, '--app', 'shared-a', '--app', 'shared-b', '--subject-prefix', 'ci:'],
    ['jwks', 'add', 'gateway', '--file', file(gateway), '--issuer', gateway.issuer, '--app', 'gateway-app', '--audiences', 'https://gateway.example'],
    ['jwks', 'add', 'strict', '--file', file(strict), '--issuer', strict.issuer, '--app', 'strict-app', '--replay', 'reject'],
    ['jwks', 'add', 'plain', '--file', file(plain), '--issuer', plain.issuer, '--app', 'plain-app'],
    ['jwks', 'add', 'doomed', '--file', file(doomed), '--issuer', doomed.issuer, '--app', 'doomed-app'],
    ['jwks', 'add', 'elsewhere', '--file', file(elsewhere), '--issuer', elsewhere.issuer, '--app', 'cc-only'],
    ...[...byAlgorithm].map(([alg, external]) => ['jwks', 'add', `alg-${alg.toLowerCase()}`, '--file', file(external), '--issuer', external.issuer, '--algorithms', alg, '--app', 'algs']),
    ['jwks', 'add', 'discovered', '--discovery', discovered.discoveryUrl, '--app', 'discovered-app'],
    ['service-account', 'create', 'robot', '--app', 'plain-app'],
  ]) {
    const run = await instance.admin(...argv);
    if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
  }
});
test.after.always(async () => {
  await instance?.close();
  await cluster?.close();
  await discovered?.close();
});

type Body = Record<string, string>;


async function refused(t: ExecutionContext, res: Response, status: number, error: string): Promise<Body> {
  const body = (await res.json()) as Body;
  t.is(res.status, status, JSON.stringify(body));
  t.is(body.error, error);
  return body;
}

const bearer = (assertion: string, extra: Record<string, string> = {}) => instance.token({ grant_type: JWT_BEARER, assertion, ...extra });
const now = () => Math.floor(Date.now() / 1000);

test('a Kubernetes token is exchanged without client_id when its source serves one application', async (t) => {
  const res = await instance.token({ grant_type: JWT_BEARER, assertion: await cluster.sign(), scope: 'deploy' });
  const body = (await res.json()) as Record<string, string>;
  t.is(res.status, 200, JSON.stringify(body));
  const claims = decodeJwt(body.access_token!);
  t.is(claims.sub, 'k8s:system:serviceaccount:ci:builder');
  t.is(claims.client_id, 'builds');
  t.is(claims.src_iss, 'https://kubernetes.default.svc');
  t.is(claims.scope, 'deploy');
});

test('client_id names the application the assertion speaks for', async (t) => {
  const claims = await granted(t, await bearer(await cluster.sign({ sub: 'system:serviceaccount:ci:tester' }), { client_id: 'builds' }));
  t.is(claims.client_id, 'builds');
  t.is(claims.sub, 'k8s:system:serviceaccount:ci:tester');
});

test('client authentication of the application may accompany the assertion', async (t) => {
  const claims = await granted(t, await instance.token({ grant_type: JWT_BEARER, assertion: await cluster.sign() }, { authorization: basic('builds', buildsSecret) }));
  t.is(claims.client_id, 'builds');
  t.is(claims.sub, 'k8s:system:serviceaccount:ci:builder');
  await refused(t, await instance.token({ grant_type: JWT_BEARER, assertion: await cluster.sign() }, { authorization: basic('builds', 'not-the-secret') }), 401, 'invalid_client');
  // the authenticated application must be one the assertion's source is bound to
  await refused(t, await instance.token({ grant_type: JWT_BEARER, assertion: await ci.sign() }, { authorization: basic('builds', buildsSecret) }), 400, 'invalid_grant');
});

test('without client_id a source bound to two applications cannot tell which one: invalid_request naming client_id', async (t) => {
  const body = await refused(t, await bearer(await ci.sign()), 400, 'invalid_request');
  t.regex(body.error_description ?? '', /client_id/);
  const claims = await granted(t, await bearer(await ci.sign(), { client_id: 'shared-b' }));
  t.is(claims.client_id, 'shared-b');
  t.is(claims.sub, 'ci:system:serviceaccount:ci:builder');
});

test('a client_id whose application the source is not bound to is invalid_grant', async (t) => {
  await refused(t, await bearer(await ci.sign(), { client_id: 'builds' }), 400, 'invalid_grant');
  await refused(t, await bearer(await cluster.sign(), { client_id: 'shared-a' }), 400, 'invalid_grant');
});

test('an application without the jwt-bearer grant is unauthorized_client', async (t) => {
  await refused(t, await bearer(await elsewhere.sign()), 400, 'unauthorized_client');
  await refused(t, await bearer(await elsewhere.sign(), { client_id: 'cc-only' }), 400, 'unauthorized_client');
});

test('a missing assertion is invalid_request', async (t) => {
  await refused(t, await instance.token({ grant_type: JWT_BEARER, client_id: 'builds' }), 400, 'invalid_request');
  await refused(t, await instance.token({ grant_type: JWT_BEARER, assertion: '' }), 400, 'invalid_request');
});

test('wrong aud, wrong iss, expired, too long-lived or sub-less assertions are invalid_grant', async (t) => {
  const cases: [string, Promise<string>][] = [
    ['aud', cluster.sign({ aud: 'https://somewhere-else.example' })],
    ['aud of the token endpoint', cluster.sign({ aud: `${TEST_ISSUER}/token` })],
    ['iss', cluster.sign({ iss: 'https://impostor.example' })],
    ['expired', cluster.sign({ iat: now() - 900, exp: now() - 300 })],
    ['lifetime over --max-lifetime 600', cluster.sign({ iat: now(), exp: now() + 1200 })],
    ['no sub', cluster.sign({ sub: undefined })],
    ['empty sub', cluster.sign({ sub: '' })],
    ['no exp', cluster.sign({ exp: undefined })],
  ];
  for (const [what, jwt] of cases) {
    for (const extra of [{}, { client_id: 'builds' }] as Record<string, string>[]) {
      const res = await bearer(await jwt, extra);
      const body = (await res.json()) as Body;
      t.is(res.status, 400, `${what}: ${JSON.stringify(body)}`);
      t.is(body.error, 'invalid_grant', what);
    }
  }
  // the cap itself, not a long lifetime as such, is what refused the one above
  await granted(t, await bearer(await cluster.sign({ iat: now(), exp: now() + 600 })));
});

test('an access token (typ at+jwt) is never an assertion', async (t) => {
  await refused(t, await bearer(await cluster.sign({}, { header: { typ: 'at+jwt' } })), 400, 'invalid_grant');
});

test('a source with --audiences accepts JWTs addressed to them and refuses ones addressed to this issuer', async (t) => {
  const claims = await granted(t, await bearer(await gateway.sign({ aud: 'https://gateway.example' })));
  t.is(claims.client_id, 'gateway-app');
  await granted(t, await bearer(await gateway.sign({ aud: ['https://unrelated.example', 'https://gateway.example'] })));
  await refused(t, await bearer(await gateway.sign({ aud: TEST_ISSUER })), 400, 'invalid_grant');
});

test('a --replay reject source takes each JWT once', async (t) => {
  const jwt = await strict.sign();
  await granted(t, await bearer(jwt));
  await refused(t, await bearer(jwt), 400, 'invalid_grant');
  await refused(t, await bearer(jwt, { client_id: 'strict-app' }), 400, 'invalid_grant');
  await refused(t, await bearer(await strict.sign({ jti: undefined })), 400, 'invalid_grant');
});

test('of 8 concurrent uses of one JWT of a --replay reject source exactly one succeeds', async (t) => {
  const jwt = await strict.sign();
  const responses = await Promise.all(Array.from({ length: 8 }, () => bearer(jwt)));
  const bodies = (await Promise.all(responses.map((r) => r.json()))) as Body[];
  t.is(responses.filter((r) => r.status === 200).length, 1);
  t.deepEqual(bodies.filter((b) => b.access_token === undefined).map((b) => b.error), Array(7).fill('invalid_grant'));
});

test('a source replaying by default (allow) accepts the same JWT again until it expires', async (t) => {
  const jwt = await cluster.sign();
  const first = await granted(t, await bearer(jwt));
  const second = await granted(t, await bearer(jwt));
  t.not(first.jti, second.jti);
});

test('the subject prefix of the source is prepended to the input sub', async (t) => {
  t.is((await granted(t, await bearer(await cluster.sign({ sub: 'workload-1' })))).sub, 'k8s:workload-1');
  t.is((await granted(t, await bearer(await plain.sign({ sub: 'workload-1' })))).sub, 'workload-1');
  // with a prefix, a sub equal to a local name no longer means that caller
  t.is((await granted(t, await bearer(await cluster.sign({ sub: 'builds' })))).sub, 'k8s:builds');
});

test('a federated sub equal to a local client_id or service-account username is refused when the source has no prefix', async (t) => {
  for (const sub of ['robot', 'builds', 'plain-app']) {
    const body = await refused(t, await bearer(await plain.sign({ sub })), 400, 'invalid_grant');
    t.is(body.access_token, undefined);
  }
});

test('the issued token names the source issuer in src_iss', async (t) => {
  t.is((await granted(t, await bearer(await plain.sign()))).src_iss, 'https://plain.example');
  t.is((await granted(t, await bearer(await cluster.sign()))).src_iss, 'https://kubernetes.default.svc');
});

test('scope and audience/resource follow the application: invalid_scope, invalid_target', async (t) => {
  const defaults = await granted(t, await bearer(await cluster.sign()));
  t.is(defaults.scope, 'read');
  t.deepEqual([defaults.aud].flat(), ['https://api.example']);
  t.is((await granted(t, await bearer(await cluster.sign(), { scope: 'deploy read' }))).scope, 'deploy read');
  await refused(t, await bearer(await cluster.sign(), { scope: 'read admin' }), 400, 'invalid_scope');
  await refused(t, await bearer(await cluster.sign(), { audience: 'https://nope.example' }), 400, 'invalid_target');
  await refused(t, await bearer(await cluster.sign(), { resource: 'https://nope.example' }), 400, 'invalid_target');
  t.deepEqual([(await granted(t, await bearer(await cluster.sign(), { resource: 'https://other.example' }))).aud].flat(), ['https://other.example']);
  t.deepEqual([(await granted(t, await bearer(await cluster.sign(), { audience: 'https://other.example' }))).aud].flat(), ['https://other.example']);
});

test('a disabled application gets no token, named or found from the source, and the answer is that of an unknown one', async (t) => {
  await granted(t, await bearer(await doomed.sign()));
  const disable = await instance.admin('app', 'disable', 'doomed-app');
  t.is(disable.code, 0, disable.stderr);
  const status = await untilPropagated(async () => (await bearer(await doomed.sign())).status, (s) => s === 400);
  t.is(status, 400);
  await refused(t, await bearer(await doomed.sign()), 400, 'invalid_grant');
  await refused(t, await bearer(await doomed.sign(), { client_id: 'doomed-app' }), 400, 'invalid_grant');
  // without client authentication, an unknown client_id is answered exactly like a disabled one
  const unknown = await bearer(await doomed.sign(), { client_id: 'no-such-app' });
  const disabled = await bearer(await doomed.sign(), { client_id: 'doomed-app' });
  t.deepEqual([unknown.status, await unknown.json()], [disabled.status, await disabled.json()]);
});

test('an access token of this issuer is refused as an assertion', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('builds', buildsSecret) });
  const own = ((await res.json()) as Body).access_token ?? '';
  t.is(res.status, 200);
  t.is(decodeJwt(own).iss, TEST_ISSUER);
  await refused(t, await bearer(own), 400, 'invalid_grant');
  await refused(t, await bearer(own, { client_id: 'builds' }), 400, 'invalid_grant');
});

test('the token.issued audit event names the source, the input iss, sub and jti, and the resolved application', async (t) => {
  const jti = randomUUID();
  await granted(t, await bearer(await cluster.sign({ sub: 'audit-probe', jti })));
  interface Row {
    action: string;
    client_id: string | null;
    subject: string | null;
    details: { grant_assertion?: Record<string, unknown> } | null;
  }
  const find = (rows: Row[]) => rows.find((e) => e.details?.grant_assertion?.assertion_jti === jti);
  const rows = await untilPropagated(async () => (await instance.admin('audit', 'list', '--app', 'builds', '--json')).json<Row[]>(), (r) => find(r) !== undefined, 5000);
  const event = find(rows);
  t.truthy(event, 'no audit event for the assertion');
  t.is(event?.action, 'token.issued');
  t.is(event?.client_id, 'builds');
  t.is(event?.subject, 'k8s:audit-probe');
  t.deepEqual(event?.details?.grant_assertion, { source: 'jwks:cluster', assertion_iss: 'https://kubernetes.default.svc', assertion_sub: 'audit-probe', assertion_jti: jti });
});

for (const alg of ALGORITHMS) {
  test(`an assertion signed with ${alg} is accepted by a source allowing ${alg}`, async (t) => {
    const external = byAlgorithm.get(alg)!;
    const jwt = await external.sign({ sub: `signed-with-${alg}` });
    t.is(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).alg, alg);
    const claims = await granted(t, await bearer(jwt));
    t.is(claims.sub, `signed-with-${alg}`);
    t.is(claims.client_id, 'algs');
    t.is(claims.src_iss, external.issuer);
  });
}

test('a discovery source takes its issuer from the discovery document', async (t) => {
  const listed = (await instance.admin('jwks', 'list', '--json')).json<{ name: string; issuer: string }[]>();
  t.is(listed.find((s) => s.name === 'discovered')?.issuer, discovered.url);
  const claims = await granted(t, await bearer(await discovered.sign({ sub: 'discovered-workload' })));
  t.is(claims.client_id, 'discovered-app');
  t.is(claims.src_iss, discovered.url);
  t.is(claims.sub, 'discovered-workload');
});
