import test, { type ExecutionContext } from 'ava';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { ExternalIssuer, issuerKey } from '../helpers/external-issuer.ts';
import { startInstance, TEST_ISSUER, type Instance } from '../helpers/instance.ts';
import { granted } from '../helpers/responses.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const PARTNER_ISSUER = 'https://partner.example';
let instance: Instance;
const workloads = new ExternalIssuer('https://workloads.example');
const neighbour = new ExternalIssuer('https://neighbour.example');
// a JWKS source whose issuer is a client_id: that application's own keys, for private_key_jwt
const ownKeys = new ExternalIssuer('pkj-app');
let partnerKey: KeyObject;
let partnerPem: string;

test.before(async () => {
  instance = await startInstance();
  for (const external of [workloads, neighbour, ownKeys]) external.keys.push(await issuerKey('RS256'));
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  partnerKey = pair.privateKey;
  partnerPem = join(instance.dir, 'partner.pem');
  writeFileSync(partnerPem, pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const file = (external: ExternalIssuer) => external.jwksFile(instance.dir);
  const audiences = ['--audiences', 'https://api.example'];
  for (const argv of [
    ['app', 'create', 'svc', '--grants', 'client_credentials,jwt-bearer,token-exchange', '--scopes', 'read write', '--default-scopes', 'read', ...audiences],
    ['app', 'create', 'neighbour-app', '--grants', 'client_credentials', ...audiences],
    ['app', 'create', 'partner-app', '--grants', 'client_credentials', ...audiences],
    ['app', 'create', 'pkj-app', '--grants', 'client_credentials', ...audiences],
    ['jwks', 'add', 'workloads', '--file', file(workloads), '--issuer', workloads.issuer, '--app', 'svc', '--subject-prefix', 'wl:'],
    ['jwks', 'add', 'neighbour', '--file', file(neighbour), '--issuer', neighbour.issuer, '--app', 'neighbour-app'],
    ['jwks', 'add', 'pkj', '--file', file(ownKeys), '--issuer', 'pkj-app', '--app', 'pkj-app'],
    ['cert', 'add', 'p', '--file', partnerPem, '--app', 'partner-app', '--issuer', PARTNER_ISSUER, '--subject-prefix', 'partner:'],
  ]) {
    const run = await instance.admin(...argv);
    if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
  }
});
test.after.always(() => instance?.close());

type Body = Record<string, string>;


async function unauthenticated(t: ExecutionContext, res: Response): Promise<void> {
  const body = (await res.json()) as Body;
  t.is(res.status, 401, JSON.stringify(body));
  t.is(body.error, 'invalid_client');
}

const clientCredentials = (clientId: string, jwt: string, extra: Record<string, string> = {}) =>
  instance.token({ grant_type: 'client_credentials', client_id: clientId, client_assertion_type: ASSERTION_TYPE, client_assertion: jwt, ...extra });

function partnerJwt(claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: PARTNER_ISSUER, sub: 'acme-job', aud: TEST_ISSUER, iat: now, exp: now + 60, jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'ES256' })
    .sign(partnerKey);
}

test('a federated client assertion on client_credentials gets a token for the workload', async (t) => {
  const claims = await granted(t, await clientCredentials('svc', await workloads.sign({ sub: 'deployer' })));
  t.is(claims.sub, 'wl:deployer');
  t.is(claims.src_iss, 'https://workloads.example');
  t.is(claims.client_id, 'svc');
  t.is(claims.scope, 'read');
});

test('a federated client assertion may be sent as client_secret with the assertion type', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials', client_id: 'svc', client_assertion_type: ASSERTION_TYPE, client_secret: await workloads.sign({ sub: 'deployer' }) });
  const claims = await granted(t, res);
  t.is(claims.sub, 'wl:deployer');
  t.is(claims.src_iss, 'https://workloads.example');
  t.is(claims.client_id, 'svc');
});

test("a federated client assertion follows its JWKS source's replay mode (allow by default)", async (t) => {
  const jwt = await workloads.sign();
  await granted(t, await clientCredentials('svc', jwt));
  await granted(t, await clientCredentials('svc', jwt));
});

test('a federated client assertion that fails the source rules is invalid_client', async (t) => {
  await unauthenticated(t, await clientCredentials('svc', await workloads.sign({ aud: 'https://elsewhere.example' })));
  await unauthenticated(t, await clientCredentials('svc', await workloads.sign({ sub: undefined })));
  await unauthenticated(t, await clientCredentials('svc', await workloads.sign({ iat: Math.floor(Date.now() / 1000) - 900, exp: Math.floor(Date.now() / 1000) - 300 })));
});

test('a federated client assertion is refused on the jwt-bearer and token-exchange grants', async (t) => {
  const assertion = await workloads.sign({ sub: 'grant-subject' });
  const bearerForm = { grant_type: JWT_BEARER, client_id: 'svc', assertion, client_assertion_type: ASSERTION_TYPE, client_assertion: await workloads.sign() };
  await unauthenticated(t, await instance.token(bearerForm));
  const exchangeForm = {
    grant_type: TOKEN_EXCHANGE,
    client_id: 'svc',
    subject_token: assertion,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await workloads.sign(),
  };
  await unauthenticated(t, await instance.token(exchangeForm));
  // the grants themselves work for this application without the client assertion
  const { client_assertion: _a, client_assertion_type: _b, ...bearerAlone } = bearerForm;
  t.is((await granted(t, await instance.token(bearerAlone))).sub, 'wl:grant-subject');
  const { client_assertion: _c, client_assertion_type: _d, ...exchangeAlone } = exchangeForm;
  t.is((await granted(t, await instance.token(exchangeAlone))).sub, 'wl:grant-subject');
});

test('a certificate added with --issuer verifies federated assertions of that iss, prefixed and single-use', async (t) => {
  const jwt = await partnerJwt();
  const claims = await granted(t, await clientCredentials('partner-app', jwt));
  t.is(claims.sub, 'partner:acme-job');
  t.is(claims.src_iss, PARTNER_ISSUER);
  t.is(claims.client_id, 'partner-app');
  // certificates have no replay setting: their federated assertions are always single-use
  await unauthenticated(t, await clientCredentials('partner-app', jwt));
  await unauthenticated(t, await clientCredentials('partner-app', await partnerJwt({ iss: 'https://someone-else.example' })));
  await unauthenticated(t, await clientCredentials('partner-app', await partnerJwt({ jti: undefined })));
});

test('the same certificate without --issuer accepts only iss = sub = client_id', async (t) => {
  const plain = await startInstance();
  try {
    for (const argv of [
      ['app', 'create', 'partner-app', '--grants', 'client_credentials', '--audiences', 'https://api.example'],
      ['cert', 'add', 'p', '--file', partnerPem, '--app', 'partner-app'],
    ]) {
      const run = await plain.admin(...argv);
      t.is(run.code, 0, run.stderr);
    }
    const send = async (claims: JWTPayload) =>
      plain.token({ grant_type: 'client_credentials', client_id: 'partner-app', client_assertion_type: ASSERTION_TYPE, client_assertion: await partnerJwt(claims) });
    await unauthenticated(t, await send({}));
    await unauthenticated(t, await send({ sub: 'partner-app' }));
    await unauthenticated(t, await send({ iss: 'partner-app' }));
    const claims = await granted(t, await send({ iss: 'partner-app', sub: 'partner-app' }));
    t.is(claims.sub, 'partner-app');
    t.is(claims.src_iss, undefined);
  } finally {
    await plain.close();
  }
});

test('a JWKS source bound to another application does not verify client assertions for this one', async (t) => {
  await unauthenticated(t, await clientCredentials('svc', await neighbour.sign({ sub: 'visitor' })));
  await unauthenticated(t, await clientCredentials('partner-app', await neighbour.sign({ sub: 'visitor' })));
  // the source does verify them for the application it is bound to
  t.is((await granted(t, await clientCredentials('neighbour-app', await neighbour.sign({ sub: 'visitor' })))).client_id, 'neighbour-app');
  // nor does a certificate bound to another application
  await unauthenticated(t, await clientCredentials('svc', await partnerJwt()));
});

test('private_key_jwt through a JWKS source whose issuer is the client_id keeps the strict audience rule', async (t) => {
  const own = (claims: JWTPayload = {}) => ownKeys.sign({ sub: 'pkj-app', ...claims });
  const claims = await granted(t, await clientCredentials('pkj-app', await own()));
  t.is(claims.sub, 'pkj-app');
  t.is(claims.client_id, 'pkj-app');
  t.is(claims.src_iss, undefined);
  await granted(t, await clientCredentials('pkj-app', await own({ aud: [TEST_ISSUER] })));
  await unauthenticated(t, await clientCredentials('pkj-app', await own({ aud: [TEST_ISSUER, 'https://api.example'] })));
  await unauthenticated(t, await clientCredentials('pkj-app', await own({ aud: `${TEST_ISSUER}/token` })));
  await unauthenticated(t, await clientCredentials('pkj-app', await own({ sub: 'someone-else' })));
});

test('private_key_jwt through a JWKS source is single-use although the source allows replay', async (t) => {
  const jwt = await ownKeys.sign({ sub: 'pkj-app' });
  await granted(t, await clientCredentials('pkj-app', jwt));
  await unauthenticated(t, await clientCredentials('pkj-app', jwt));
});

test('single use is keyed by iss and jti: one jti under two issuers is two assertions', async (t) => {
  const jti = randomUUID();
  await granted(t, await clientCredentials('partner-app', await partnerJwt({ jti })));
  await granted(t, await clientCredentials('pkj-app', await ownKeys.sign({ sub: 'pkj-app', jti })));
  await unauthenticated(t, await clientCredentials('partner-app', await partnerJwt({ jti })));
});
