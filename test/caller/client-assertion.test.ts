import test from 'ava';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, SignJWT, type JWTPayload } from 'jose';
import { createPrisma } from '../../src/store/prisma.ts';
import { purgeUsedAssertions } from '../../src/store/replay.ts';
import { startInstance, TEST_ISSUER, type Instance } from '../helpers/instance.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let instance: Instance;
let privateKey: KeyObject;

test.before(async () => {
  instance = await startInstance();
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  privateKey = pair.privateKey;
  const file = join(instance.dir, 'partner.pem');
  writeFileSync(file, pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  for (const app of ['partner', 'other']) {
    const run = await instance.admin('app', 'create', app, '--audiences', 'https://api.example');
    if (run.code !== 0) throw new Error(run.stderr);
  }
  const cert = await instance.admin('cert', 'add', 'partner-key', '--file', file, '--app', 'partner');
  if (cert.code !== 0) throw new Error(cert.stderr);
});
test.after.always(() => instance?.close());

function assertion(claims: JWTPayload = {}, key: KeyObject = privateKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: 'partner', sub: 'partner', aud: TEST_ISSUER, iat: now, exp: now + 60, jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'ES256' })
    .sign(key);
}

const form = (jwt: string, extra: Record<string, string> = {}) => ({
  grant_type: 'client_credentials',
  client_id: 'partner',
  client_assertion_type: ASSERTION_TYPE,
  client_assertion: jwt,
  ...extra,
});

async function failed(t: import('ava').ExecutionContext, res: Response) {
  t.is(res.status, 401);
  t.is(((await res.json()) as { error: string }).error, 'invalid_client');
}

test('private_key_jwt with a bound certificate gets a token whose sub is the client_id', async (t) => {
  const res = await instance.token(form(await assertion()));
  t.is(res.status, 200);
  const payload = decodeJwt(((await res.json()) as { access_token: string }).access_token);
  t.is(payload.sub, 'partner');
  t.is(payload.client_id, 'partner');
});

test('client_secret=<JWT> with the assertion type is accepted for callers that can only set a secret', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials', client_id: 'partner', client_assertion_type: ASSERTION_TYPE, client_secret: await assertion() });
  t.is(res.status, 200);
});

test('an assertion is single-use, even when presented concurrently', async (t) => {
  const jwt = await assertion();
  t.is((await instance.token(form(jwt))).status, 200);
  await failed(t, await instance.token(form(jwt)));
  const racing = await assertion();
  const statuses = await Promise.all(Array.from({ length: 6 }, () => instance.token(form(racing)).then((r) => r.status)));
  t.is(statuses.filter((s) => s === 200).length, 1);
});

test('an assertion just past exp but within the leeway stays single-use through the purge of expired records', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const jwt = await assertion({ iat: now - 120, exp: now - 30 });
  t.is((await instance.token(form(jwt))).status, 200);
  const db = await createPrisma(instance.config.database);
  try {
    await purgeUsedAssertions(db, new Date());
  } finally {
    await db.$disconnect();
  }
  await failed(t, await instance.token(form(jwt)));
});

test('aud must be exactly this issuer: the token endpoint URL or an extra audience is refused in strict mode', async (t) => {
  await failed(t, await instance.token(form(await assertion({ aud: `${TEST_ISSUER}/token` }))));
  await failed(t, await instance.token(form(await assertion({ aud: [TEST_ISSUER, 'https://elsewhere.example'] }))));
  t.is((await instance.token(form(await assertion({ aud: [TEST_ISSUER] })))).status, 200);
});

test('iss and sub must be the client_id', async (t) => {
  await failed(t, await instance.token(form(await assertion({ iss: 'someone' }))));
  await failed(t, await instance.token(form(await assertion({ sub: 'someone' }))));
});

test('a key not bound to the application, or bound to another, is refused', async (t) => {
  await failed(t, await instance.token(form(await assertion({}, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))));
  const forOther = await assertion({ iss: 'other', sub: 'other' });
  await failed(t, await instance.token(form(forOther, { client_id: 'other' })));
});

test('a wrong assertion type or a missing jti is refused', async (t) => {
  await failed(t, await instance.token(form(await assertion(), { client_assertion_type: 'urn:example:other' })));
  const now = Math.floor(Date.now() / 1000);
  const noJti = await new SignJWT({ iss: 'partner', sub: 'partner', aud: TEST_ISSUER, iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
  await failed(t, await instance.token(form(noJti)));
});

test('a client assertion together with a Basic header is two methods: invalid_request', async (t) => {
  const res = await instance.token(form(await assertion()), { authorization: `Basic ${Buffer.from('partner:x').toString('base64')}` });
  t.is(res.status, 400);
  t.is(((await res.json()) as { error: string }).error, 'invalid_request');
});

test('the audit event names the method, the certificate and the assertion jti', async (t) => {
  const jwt = await assertion();
  t.is((await instance.token(form(jwt))).status, 200);
  await instance.serving.deps.writer.flush();
  const events = (await instance.admin('audit', 'list', '--app', 'partner', '--json')).json<{ action: string; details: Record<string, unknown> }[]>();
  const issued = events.find((e) => e.action === 'token.issued' && e.details.assertion_jti === decodeJwt(jwt).jti);
  t.like(issued?.details, { method: 'private_key_jwt', source: 'certificate:partner-key' });
});

test('with CLIENT_ASSERTION_AUDIENCE=compat the token endpoint URL is accepted as aud too', async (t) => {
  const compat = await startInstance({ CLIENT_ASSERTION_AUDIENCE: 'compat' });
  try {
    const pair = generateKeyPairSync('ed25519');
    const file = join(compat.dir, 'k.pem');
    writeFileSync(file, pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    t.is((await compat.admin('app', 'create', 'legacy', '--audiences', 'https://api.example')).code, 0);
    t.is((await compat.admin('cert', 'add', 'legacy-key', '--file', file, '--app', 'legacy')).code, 0);
    const now = Math.floor(Date.now() / 1000);
    const sign = (aud: string) =>
      new SignJWT({ iss: 'legacy', sub: 'legacy', aud, iat: now, exp: now + 60, jti: randomUUID() }).setProtectedHeader({ alg: 'EdDSA' }).sign(pair.privateKey);
    const send = async (aud: string) => (await compat.token({ grant_type: 'client_credentials', client_id: 'legacy', client_assertion_type: ASSERTION_TYPE, client_assertion: await sign(aud) })).status;
    t.is(await send(`${TEST_ISSUER}/token`), 200);
    t.is(await send(TEST_ISSUER), 200);
    t.is(await send('https://elsewhere.example'), 401);
  } finally {
    await compat.close();
  }
});
