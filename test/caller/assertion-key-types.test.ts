// One application, certificates of three key types: each algorithm verifies, whichever certificate
// sorts first; and client_id may be left out of a client assertion (RFC 7521 §4.2).
import test, { type ExecutionContext } from 'ava';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';
import { granted } from '../helpers/responses.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const FEDERATED_ISSUER = 'https://mixed.example';
let instance: Instance;

interface Signer {
  alg: string;
  key: KeyObject;
}
// named so that the EC certificate sorts first: RSA and Ed25519 assertions must still verify
const signers: Record<string, Signer> = {};
const federatedSigners: Record<string, Signer> = {};

function pair(kind: 'rsa' | 'ec' | 'ed25519'): { privateKey: KeyObject; publicKey: KeyObject } {
  if (kind === 'rsa') return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (kind === 'ec') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return generateKeyPairSync('ed25519');
}

test.before(async () => {
  instance = await startInstance();
  const run = async (...argv: string[]) => {
    const result = await instance.admin(...argv);
    if (result.code !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
  };
  const audiences = ['--audiences', 'https://api.example'];
  await run('app', 'create', 'mixed', '--grants', 'client_credentials,jwt-bearer', ...audiences);
  await run('app', 'create', 'fed-mixed', '--grants', 'client_credentials,jwt-bearer', ...audiences);
  await run('app', 'create', 'shared-1', '--grants', 'client_credentials', ...audiences);
  await run('app', 'create', 'shared-2', '--grants', 'client_credentials', ...audiences);
  for (const [name, kind, alg] of [['a-ec', 'ec', 'ES256'], ['b-rsa', 'rsa', 'RS256'], ['c-ed', 'ed25519', 'EdDSA']] as const) {
    const keys = pair(kind);
    signers[alg] = { alg, key: keys.privateKey };
    const file = join(instance.dir, `${name}.pem`);
    writeFileSync(file, keys.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    await run('cert', 'add', name, '--file', file, '--app', 'mixed');
    const federated = pair(kind);
    federatedSigners[alg] = { alg, key: federated.privateKey };
    const fedFile = join(instance.dir, `fed-${name}.pem`);
    writeFileSync(fedFile, federated.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    await run('cert', 'add', `fed-${name}`, '--file', fedFile, '--app', 'fed-mixed', '--issuer', FEDERATED_ISSUER, '--subject-prefix', 'fed:');
  }
  // a federated source bound to two applications cannot say which one a client_id-less assertion is for
  const shared = pair('ec');
  signers.shared = { alg: 'ES256', key: shared.privateKey };
  const sharedFile = join(instance.dir, 'shared.pem');
  writeFileSync(sharedFile, shared.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  await run('cert', 'add', 'shared', '--file', sharedFile, '--app', 'shared-1', '--app', 'shared-2', '--issuer', 'https://shared.example');
});
test.after.always(() => instance?.close());

const now = () => Math.floor(Date.now() / 1000);

function sign(signer: Signer, claims: JWTPayload): Promise<string> {
  return new SignJWT({ aud: TEST_ISSUER, iat: now(), exp: now() + 60, jti: randomUUID(), ...claims }).setProtectedHeader({ alg: signer.alg }).sign(signer.key);
}

const own = (alg: string, claims: JWTPayload = {}) => sign(signers[alg]!, { iss: 'mixed', sub: 'mixed', ...claims });

function clientCredentials(assertion: string, extra: Record<string, string> = {}) {
  return instance.token({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...extra });
}

async function invalidClient(t: ExecutionContext, res: Response): Promise<void> {
  const body = (await res.json()) as Record<string, string>;
  t.is(res.status, 401, JSON.stringify(body));
  t.is(body.error, 'invalid_client');
}

for (const alg of ['RS256', 'ES256', 'EdDSA']) {
  test(`private_key_jwt signed with ${alg} verifies against the one of three certificates of its key type`, async (t) => {
    const claims = await granted(t, await clientCredentials(await own(alg), { client_id: 'mixed' }));
    t.is(claims.sub, 'mixed');
  });

  test(`private_key_jwt with ${alg} and no client_id: the client is the assertion's iss = sub`, async (t) => {
    const claims = await granted(t, await clientCredentials(await own(alg)));
    t.is(claims.sub, 'mixed');
    t.is(claims.client_id, 'mixed');
  });

  test(`a federated assertion signed with ${alg} verifies against --issuer certificates of three key types, with or without client_id`, async (t) => {
    const jwt = () => sign(federatedSigners[alg]!, { iss: FEDERATED_ISSUER, sub: `job-${alg}` });
    t.is((await granted(t, await clientCredentials(await jwt(), { client_id: 'fed-mixed' }))).sub, `fed:job-${alg}`);
    const claims = await granted(t, await clientCredentials(await jwt()));
    t.is(claims.sub, `fed:job-${alg}`);
    t.is(claims.client_id, 'fed-mixed');
  });

  test(`a jwt-bearer assertion signed with ${alg} verifies against --issuer certificates of three key types`, async (t) => {
    const claims = await granted(t, await instance.token({ grant_type: JWT_BEARER, assertion: await sign(federatedSigners[alg]!, { iss: FEDERATED_ISSUER, sub: 'bearer-job' }) }));
    t.is(claims.sub, 'fed:bearer-job');
  });
}

test('a signature no certificate verifies is refused after every candidate was tried', async (t) => {
  const stranger = { alg: 'RS256', key: pair('rsa').privateKey };
  await invalidClient(t, await clientCredentials(await sign(stranger, { iss: 'mixed', sub: 'mixed' })));
  await invalidClient(t, await clientCredentials(await sign(stranger, { iss: 'mixed', sub: 'mixed' }), { client_id: 'mixed' }));
  // an algorithm none of the certificates uses
  const ps = await new SignJWT({ iss: 'mixed', sub: 'mixed', aud: TEST_ISSUER, iat: now(), exp: now() + 60, jti: randomUUID() }).setProtectedHeader({ alg: 'PS256' }).sign(pair('rsa').privateKey);
  await invalidClient(t, await clientCredentials(ps));
});

test('without client_id: sub must equal iss, the iss must be a known client, and a malformed JWT is refused before any lookup', async (t) => {
  await invalidClient(t, await clientCredentials(await own('ES256', { sub: 'someone-else' })));
  await invalidClient(t, await clientCredentials(await own('ES256', { iss: 'nobody-here', sub: 'nobody-here' })));
  await invalidClient(t, await clientCredentials(await own('ES256', { iss: undefined })));
  await invalidClient(t, await clientCredentials('not.a.jwt'));
  await invalidClient(t, await clientCredentials('x'.repeat(20_000)));
});

test('with client_id, it must name the client the assertion speaks for', async (t) => {
  await invalidClient(t, await clientCredentials(await own('ES256'), { client_id: 'fed-mixed' }));
  await invalidClient(t, await clientCredentials(await own('ES256'), { client_id: 'shared-1' }));
});

test('a federated assertion without client_id whose source serves two applications is invalid_client', async (t) => {
  const jwt = await sign(signers.shared!, { iss: 'https://shared.example', sub: 'job' });
  await invalidClient(t, await clientCredentials(jwt));
  t.is((await clientCredentials(await sign(signers.shared!, { iss: 'https://shared.example', sub: 'job' }), { client_id: 'shared-2' })).status, 200);
});

test('a private_key_jwt assertion without client_id is single-use', async (t) => {
  const jwt = await own('RS256');
  t.is((await clientCredentials(jwt)).status, 200);
  await invalidClient(t, await clientCredentials(jwt));
});

interface Row {
  action: string;
  client_id: string | null;
  reason: string | null;
  details: Record<string, unknown> | null;
}

async function eventsOf(app: string, match: (row: Row) => boolean): Promise<Row[]> {
  return untilPropagated(async () => (await instance.admin('audit', 'list', '--app', app, '--json')).json<Row[]>(), (rows) => rows.some(match), 5000);
}

test('a refusal after a trusted key verified the signature is attributed to the source\'s application; a forged one is not', async (t) => {
  // correctly signed, then refused for a claim: the application is known from the verifying source
  const expiredClient = await sign(federatedSigners.ES256!, { iss: FEDERATED_ISSUER, sub: 'late-job', iat: now() - 900, exp: now() - 600 });
  await invalidClient(t, await clientCredentials(expiredClient));
  const expiredBearer = await sign(federatedSigners.EdDSA!, { iss: FEDERATED_ISSUER, sub: 'late-bearer', iat: now() - 900, exp: now() - 600 });
  t.is((await instance.token({ grant_type: JWT_BEARER, assertion: expiredBearer })).status, 400);
  const replayed = await own('RS256');
  t.is((await clientCredentials(replayed)).status, 200);
  await invalidClient(t, await clientCredentials(replayed));

  const denied = (row: Row) => row.action === 'token.denied' && row.reason !== null;
  const fed = await eventsOf('fed-mixed', (r) => denied(r) && /expired/.test(r.reason!) && r.details?.grant_type === JWT_BEARER);
  t.true(fed.some((r) => denied(r) && /client assertion: expired/.test(r.reason!)), 'federated client assertion denial not attributed');
  t.true(fed.some((r) => denied(r) && /assertion: expired/.test(r.reason!) && r.details?.grant_type === JWT_BEARER), 'jwt-bearer denial not attributed');
  const mixed = await eventsOf('mixed', (r) => denied(r) && /jti already used/.test(r.reason!));
  t.true(mixed.length > 0);

  // a signature no trusted key made says nothing about any application
  const forged = await sign({ alg: 'ES256', key: pair('ec').privateKey }, { iss: FEDERATED_ISSUER, sub: 'forger', jti: 'forged-jti' });
  await invalidClient(t, await clientCredentials(forged));
  await new Promise((r) => setTimeout(r, 1500));
  const all = (await instance.admin('audit', 'list', '--app', 'fed-mixed', '--json')).json<Row[]>();
  t.false(all.some((r) => /signature does not verify/.test(r.reason ?? '')));
});
