import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { createHmac, createPrivateKey, createPublicKey, KeyObject, randomUUID, sign, X509Certificate, type JsonWebKey, type webcrypto } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CompactEncrypt, FlattenedSign, GeneralSign } from 'jose';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { prepare } from '../../src/prepare.ts';
import { serve, type Serving } from '../../src/serve.ts';
import { ExternalIssuer, issuerKey, type IssuerKey } from '../helpers/external-issuer.ts';
import { createApp, formBody, runAdmin, startInstance, tempDir, testConfig, TEST_ISSUER, untilPropagated, basic, type Instance } from '../helpers/instance.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

let instance: Instance;
/** Fetches time out after 1 s, for the JWKS servers that hang or stream without end. */
let impatient: Instance;
/** An RSA key and its self-signed certificate that no source trusts: what an attacker holds. */
let attacker: { key: KeyObject; jwk: JsonWebKey; certDer: string; certPem: string };

test.before(async () => {
  [instance, impatient] = await Promise.all([
    startInstance({ JWKS_ALLOW_PRIVATE_NETWORKS: 'true' }),
    startInstance({ JWKS_ALLOW_PRIVATE_NETWORKS: 'true', JWKS_FETCH_TIMEOUT_SECONDS: '1' }),
  ]);
  const dir = tempDir();
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=attacker'], { stdio: 'ignore' });
    const certPem = readFileSync(join(dir, 'c.pem'), 'utf8');
    const key = createPrivateKey(readFileSync(join(dir, 'k.pem')));
    attacker = { key, jwk: createPublicKey(key).export({ format: 'jwk' }), certDer: new X509Certificate(certPem).raw.toString('base64'), certPem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
test.after.always(async () => {
  await instance?.close();
  await impatient?.close();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** An answer for a failure message, without the token itself. */
const shown = (answer: Answer): string => (answer.body.access_token ? `${answer.status} with an access token` : `${answer.status} ${JSON.stringify(answer.body)}`);

async function exchange(assertion: string, extra: Record<string, string> = {}, target: string = instance.url): Promise<Answer> {
  const res = await fetch(`${target}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody({ grant_type: JWT_BEARER, assertion, ...extra }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function accepted(t: ExecutionContext, assertion: string, what: string, extra: Record<string, string> = {}, on: Instance = instance): Promise<void> {
  const answer = await exchange(assertion, extra, on.url);
  t.is(answer.status, 200, `${what}: ${shown(answer)}`);
  t.is(typeof answer.body.access_token, 'string', what);
}

async function refused(t: ExecutionContext, assertion: string, what: string, extra: Record<string, string> = {}): Promise<void> {
  const answer = await exchange(assertion, extra);
  t.is(answer.status, 400, `${what}: ${shown(answer)}`);
  t.is(answer.body.error, 'invalid_grant', what);
}

interface Trusted {
  issuer: ExternalIssuer;
  clientId: string;
  source: string;
}

let trustedCount = 0;

/**
 * An external issuer trusted for its own application, proven to work before the test attacks it,
 * so that a refusal means the attack failed rather than the setup.
 */
async function trustedIssuer(t: ExecutionContext, options: { alg?: string; algorithms?: string; on?: Instance } = {}): Promise<Trusted> {
  const on = options.on ?? instance;
  const n = ++trustedCount;
  const issuer = await ExternalIssuer.start({ alg: options.alg, issuer: `https://issuer-${n}.example` });
  t.teardown(() => issuer.close());
  const clientId = `target-${n}`;
  const source = `source-${n}`;
  for (const argv of [
    ['app', 'create', clientId, '--grants', 'jwt-bearer', '--audiences', 'https://api.example'],
    ['jwks', 'add', source, '--url', issuer.jwksUrl, '--issuer', issuer.issuer, '--app', clientId, ...(options.algorithms ? ['--algorithms', options.algorithms] : [])],
  ]) {
    // the CLI shares this busy test process: its fetch gets a generous timeout of its own
    const run = await runAdmin({ ...on.config, jwksFetchTimeoutMs: 30_000 }, argv);
    if (run.code !== 0) throw new Error(run.stderr);
  }
  const control = await untilPropagated(
    async () => exchange(await issuer.sign(), {}, on.url),
    (answer) => answer.status === 200,
  );
  if (control.status !== 200) throw new Error(`the trusted issuer does not work: ${shown(control)}`);
  return { issuer, clientId, source };
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function privateKeyOf(key: IssuerKey): KeyObject {
  return KeyObject.from(key.privateKey as webcrypto.CryptoKey);
}

/** A compact JWS from header and payload as given (objects or exact JSON text), signed over exactly those bytes. */
function rawJws(header: object | string, payload: object | string, key: KeyObject, alg = 'RS256'): string {
  const text = (v: object | string) => (typeof v === 'string' ? v : JSON.stringify(v));
  const input = `${b64(text(header))}.${b64(text(payload))}`;
  const signature = alg.startsWith('ES') ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

function claims(issuer: ExternalIssuer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer.issuer, sub: 'system:serviceaccount:ci:builder', aud: TEST_ISSUER, iat: now, exp: now + 300, jti: randomUUID(), ...extra };
}

async function jwksList(on: Instance = instance): Promise<Record<string, unknown>[]> {
  const run = await on.admin('jwks', 'list', '--json');
  if (run.code !== 0) throw new Error(run.stderr);
  return run.json<Record<string, unknown>[]>();
}

test('a flood of unknown kids is refused and fetches the JWKS at most once', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const stranger = await issuerKey();
  const assertions = await Promise.all(Array.from({ length: 100 }, () => issuer.sign({}, { key: stranger, header: { kid: randomUUID() } })));
  const hitsBefore = issuer.hitsOf('/jwks.json');

  const answers = await Promise.all(assertions.map((a) => exchange(a)));

  t.true(issuer.hitsOf('/jwks.json') - hitsBefore <= 1, `the flood made ${issuer.hitsOf('/jwks.json') - hitsBefore} fetches`);
  t.deepEqual(
    answers.map((a) => `${a.status} ${String(a.body.error)}`),
    answers.map(() => '400 invalid_grant'),
  );
  await accepted(t, await issuer.sign(), 'the published key still works after the flood');
});

/** A local HTTP listener that counts connections and requests: where a refused URL must never reach. */
async function localListener(t: ExecutionContext, respond: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; requests: () => number; connections: () => number }> {
  let requests = 0;
  let connections = 0;
  const server = createServer((req, res) => {
    requests++;
    respond(req, res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, connections: () => connections };
}

test('jku and x5u headers are never followed', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const attackerKid = randomUUID();
  const listener = await localListener(t, (req, res) => {
    if (req.url?.startsWith('/jwks')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...attacker.jwk, kid: attackerKid, alg: 'RS256', use: 'sig' }] }));
    res.writeHead(200, { 'content-type': 'application/pem-certificate-chain' }).end(attacker.certPem);
  });

  for (const kid of [attackerKid, issuer.keys[0]!.kid]) {
    await refused(t, rawJws({ alg: 'RS256', typ: 'JWT', kid, jku: `${listener.url}/jwks.json` }, claims(issuer), attacker.key), `jku with kid ${kid}`);
    await refused(t, rawJws({ alg: 'RS256', typ: 'JWT', kid, x5u: `${listener.url}/cert.pem` }, claims(issuer), attacker.key), `x5u with kid ${kid}`);
  }
  t.is(listener.requests(), 0);
  t.is(listener.connections(), 0);
});

test('an embedded jwk or x5c of the attacker key is never used to verify', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const jwk = { ...attacker.jwk, alg: 'RS256', use: 'sig' };
  for (const kid of [issuer.keys[0]!.kid, randomUUID(), undefined]) {
    await refused(t, rawJws({ alg: 'RS256', typ: 'JWT', kid, jwk }, claims(issuer), attacker.key), `jwk with kid ${kid}`);
    await refused(t, rawJws({ alg: 'RS256', typ: 'JWT', kid, x5c: [attacker.certDer] }, claims(issuer), attacker.key), `x5c with kid ${kid}`);
  }
  // the same key material, when it is the trusted key, is accepted: the refusals above are about trust
  await accepted(t, rawJws({ alg: 'RS256', typ: 'JWT', kid: issuer.keys[0]!.kid }, claims(issuer), privateKeyOf(issuer.keys[0]!)), 'hand-built control');
});

test('alg none in any spelling is refused, unsigned or not', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const kid = issuer.keys[0]!.kid;
  const signed = (await issuer.sign()).split('.')[2]!;
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const unsigned = `${b64(JSON.stringify({ alg, typ: 'JWT', kid }))}.${b64(JSON.stringify(claims(issuer)))}`;
    await refused(t, `${unsigned}.`, `alg ${alg}, empty signature`);
    await refused(t, unsigned, `alg ${alg}, two parts`);
    await refused(t, `${unsigned}.${signed}`, `alg ${alg} with some signature`);
  }
});

test('HS256 keyed with the published RSA public key is refused', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const { kid, publicJwk } = issuer.keys[0]!;
  const publicKey = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
  const secrets = {
    'SPKI PEM': publicKey.export({ type: 'spki', format: 'pem' }),
    'PKCS#1 PEM': publicKey.export({ type: 'pkcs1', format: 'pem' }),
    'SPKI DER': publicKey.export({ type: 'spki', format: 'der' }),
    'JWK JSON': JSON.stringify(publicJwk),
    'JWKS JSON': JSON.stringify(issuer.jwks()),
  };
  for (const [name, secret] of Object.entries(secrets)) {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const input = `${b64(JSON.stringify({ alg, typ: 'JWT', kid }))}.${b64(JSON.stringify(claims(issuer)))}`;
      const mac = createHmac(`sha${alg.slice(2)}`, secret).update(input).digest('base64url');
      await refused(t, `${input}.${mac}`, `${alg} keyed with the ${name}`);
    }
  }
});

test('an unknown crit header is refused even with a valid signature', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const key = issuer.keys[0]!;
  await accepted(t, rawJws({ alg: 'RS256', typ: 'JWT', kid: key.kid }, claims(issuer), privateKeyOf(key)), 'hand-built control');
  await refused(t, rawJws({ alg: 'RS256', typ: 'JWT', kid: key.kid, crit: ['urn:example:must-understand'], 'urn:example:must-understand': true }, claims(issuer), privateKeyOf(key)), 'unknown crit');
  await refused(t, rawJws({ alg: 'RS256', typ: 'JWT', kid: key.kid, crit: ['exp'], exp: 1 }, claims(issuer), privateKeyOf(key)), 'crit naming a registered claim');
  await refused(t, rawJws({ alg: 'RS256', typ: 'JWT', kid: key.kid, crit: [] }, claims(issuer), privateKeyOf(key)), 'empty crit');
});

test('an ES256 signature of all zero bytes is refused', async (t) => {
  const { issuer } = await trustedIssuer(t, { alg: 'ES256', algorithms: 'ES256' });
  const key = issuer.keys[0]!;
  const genuine = rawJws({ alg: 'ES256', typ: 'JWT', kid: key.kid }, claims(issuer), privateKeyOf(key), 'ES256');
  await accepted(t, genuine, 'hand-built ES256 control');
  const [header, payload] = genuine.split('.');
  await refused(t, `${header}.${payload}.${b64(Buffer.alloc(64))}`, 'r = s = 0 (64 bytes)');
  await refused(t, `${header}.${payload}.${b64(Buffer.alloc(72))}`, '72 zero bytes');
  await refused(t, `${header}.${payload}.${b64(Buffer.alloc(1))}`, 'a single zero byte');
});

test('a tampered payload is refused', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const genuine = await issuer.sign();
  const [header, payload, signature] = genuine.split('.') as [string, string, string];
  const altered = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'system:serviceaccount:kube-system:admin' };
  await refused(t, `${header}.${b64(JSON.stringify(altered))}.${signature}`, 'changed sub');
  const stretched = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), exp: Math.floor(Date.now() / 1000) + 3000 };
  await refused(t, `${header}.${b64(JSON.stringify(stretched))}.${signature}`, 'changed exp');
  await refused(t, `${header}.${payload}.${signature.slice(0, -4)}AAAA`, 'changed signature');
});

test('duplicate member names in the header or the payload are refused', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const key = issuer.keys[0]!;
  const pk = privateKeyOf(key);
  const base = JSON.stringify(claims(issuer)).slice(1, -1);
  const header = `{"alg":"RS256","typ":"JWT","kid":${JSON.stringify(key.kid)}}`;
  await accepted(t, rawJws(header, `{${base}}`, pk), 'hand-built control');

  await refused(t, rawJws(`{"alg":"RS256","typ":"JWT","kid":${JSON.stringify(key.kid)},"kid":"other"}`, `{${base}}`, pk), 'duplicate kid in the header');
  await refused(t, rawJws(`{"alg":"HS256","alg":"RS256","kid":${JSON.stringify(key.kid)}}`, `{${base}}`, pk), 'duplicate alg in the header');
  await refused(t, rawJws(header, `{${base},"sub":"system:serviceaccount:kube-system:admin"}`, pk), 'duplicate sub in the payload');
  await refused(t, rawJws(header, `{${base},"s\\u0075b":"system:serviceaccount:kube-system:admin"}`, pk), 'duplicate sub spelt with an escape');
  await refused(t, rawJws(header, `{${base},"iss":"https://elsewhere.example"}`, pk), 'duplicate iss in the payload');
});

test('JWE and JSON serializations are refused', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const key = issuer.keys[0]!;
  const payload = new TextEncoder().encode(JSON.stringify(claims(issuer)));

  const jwe = await new CompactEncrypt(payload).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: key.kid }).encrypt(createPublicKey({ key: key.publicJwk as JsonWebKey, format: 'jwk' }));
  t.is(jwe.split('.').length, 5);
  await refused(t, jwe, 'JWE');

  const flattened = await new FlattenedSign(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey);
  await refused(t, JSON.stringify(flattened), 'flattened JSON serialization');
  const general = await new GeneralSign(payload).addSignature(key.privateKey).setProtectedHeader({ alg: 'RS256', kid: key.kid }).done().sign();
  await refused(t, JSON.stringify(general), 'general JSON serialization');
  await refused(t, `${flattened.protected}.${flattened.payload}.${flattened.signature}.`, 'a compact JWS with a fourth part');
});

test('exp that is a string, huge, negative or missing is refused', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, Record<string, unknown>][] = [
    ['exp as a string', { exp: String(now + 300) }],
    ['exp 1e20', { exp: 1e20 }],
    ['exp negative', { exp: -1 }],
    ['exp hugely negative', { exp: -(2 ** 53) }],
    ['exp as a float string', { exp: `${now + 300}.0` }],
    ['exp null', { exp: null }],
    ['exp missing', { exp: undefined }],
    ['exp in the past', { exp: now - 3600, iat: now - 3900 }],
  ];
  for (const [what, extra] of cases) {
    const assertion = await issuer.sign(extra);
    const sent = JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    t.deepEqual(sent.exp, extra.exp === undefined ? undefined : extra.exp, `${what} is what is sent`);
    await refused(t, assertion, what);
  }
});

test('nbf in the future, iat in the future and a lifetime over the cap are refused', async (t) => {
  const { issuer } = await trustedIssuer(t);
  const now = Math.floor(Date.now() / 1000);
  await refused(t, await issuer.sign({ nbf: now + 3600, exp: now + 7200 }), 'nbf in the future');
  await refused(t, await issuer.sign({ iat: now + 3600, exp: now + 7200 }), 'iat in the future');
  // the source's default cap is 86400 s, plus 60 s of leeway
  await refused(t, await issuer.sign({ iat: now, exp: now + 86_400 + 3600 }), 'lifetime over the cap');
  await refused(t, await issuer.sign({ iat: undefined, exp: now + 86_400 + 3600 }), 'lifetime over the cap without iat');
  await accepted(t, await issuer.sign({ iat: now, exp: now + 86_400 - 60 }), 'a lifetime just under the cap');
});

test('a JWT stating another iss or audience than its source demands is refused', async (t) => {
  const first = await trustedIssuer(t);
  const second = await trustedIssuer(t);
  await refused(t, await first.issuer.sign({ iss: 'https://evil.example' }), 'unknown iss');
  await refused(t, await first.issuer.sign({ iss: 'https://evil.example' }), 'unknown iss naming the application', { client_id: first.clientId });
  await refused(t, await first.issuer.sign({ iss: second.issuer.issuer }), 'the other trusted issuer, signed by the first');
  await refused(t, await first.issuer.sign({ iss: second.issuer.issuer }), 'the other trusted issuer, naming its application', { client_id: second.clientId });
  await refused(t, await first.issuer.sign({ iss: TEST_ISSUER }), 'this issuer as iss');
  await refused(t, await first.issuer.sign({ iss: undefined }), 'no iss');
  await refused(t, await first.issuer.sign({ aud: 'https://someone-else.example' }), 'aud of someone else');
  await refused(t, await first.issuer.sign({ aud: undefined }), 'no aud');
});

test('an access token issued by this instance is not an assertion', async (t) => {
  const { issuer, clientId } = await trustedIssuer(t);
  const secret = await createApp(instance, 'token-holder');
  const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('token-holder', secret) });
  t.is(res.status, 200);
  const { access_token: accessToken } = (await res.json()) as { access_token: string };

  await refused(t, accessToken, 'own access token');
  await refused(t, accessToken, 'own access token naming an application', { client_id: clientId });
  await refused(t, accessToken, 'own access token naming its own application', { client_id: 'token-holder' });
  await refused(t, await issuer.sign({}, { header: { typ: 'at+jwt' } }), 'a trusted issuer\'s access token');
  await refused(t, await issuer.sign({}, { header: { typ: 'application/AT+JWT' } }), 'a trusted issuer\'s access token, media type spelling');
});

test('a JWKS server that hangs fails the refresh within the fetch timeout and keeps the last good keys', async (t) => {
  const { issuer, source } = await trustedIssuer(t, { on: impatient });
  const known = issuer.keys[0]!;
  const added = await issuerKey();
  issuer.keys = [known, added];
  let hung = 0;
  issuer.jwksHandler = () => void hung++;

  // the hang guard only turns a hang into a failure; it asserts no duration
  const answer = await Promise.race([
    exchange(await issuer.sign({}, { key: added }), {}, impatient.url),
    new Promise<Answer>((resolve) => setTimeout(() => resolve({ status: 0, body: { error: 'no answer: the request hung' } }), 30_000).unref()),
  ]);
  t.is(answer.status, 400, shown(answer));
  t.is(answer.body.error, 'invalid_grant');
  t.is(hung, 1);

  await accepted(t, await issuer.sign({}, { key: known }), 'the last good key still works', {}, impatient);
  const row = (await jwksList(impatient)).find((r) => r.name === source)!;
  t.regex(String(row.last_error), /timed out/);
  t.deepEqual(row.kids, [known.kid]);
});

test('a JWKS server that streams 50 MB is cut off and the last good keys are kept', async (t) => {
  // the default fetch budget (5 s): the size cap, not the clock, must be what stops it, even on a busy machine
  const { issuer, source } = await trustedIssuer(t, { on: instance });
  const known = issuer.keys[0]!;
  const added = await issuerKey();
  issuer.keys = [known, added];
  const total = 50 * 1024 * 1024;
  let written = 0;
  let requests = 0;
  issuer.jwksHandler = (_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"keys":[');
    const chunk = Buffer.alloc(1024 * 1024, ' ');
    const pump = () => {
      while (written < total && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end(']}');
    };
    pump();
  };

  const answer = await exchange(await issuer.sign({}, { key: added }), {}, instance.url);
  t.is(answer.status, 400, shown(answer));
  t.is(answer.body.error, 'invalid_grant');
  t.is(requests, 1);
  t.true(written < total, 'the issuer stopped reading long before 50 MB');

  await accepted(t, await issuer.sign({}, { key: known }), 'the last good key still works', {}, instance);
  const row = (await jwksList(instance)).find((r) => r.name === source)!;
  t.regex(String(row.last_error), /larger than/);
  t.deepEqual(row.kids, [known.kid]);
});

test('a refreshed JWKS that publishes a symmetric key is refused whole and its key never verifies', async (t) => {
  const { issuer, source } = await trustedIssuer(t);
  const known = issuer.keys[0]!;
  const secret = Buffer.from('attacker-chosen-secret-of-enough-length').toString('base64url');
  const octKid = randomUUID();
  issuer.jwksHandler = (_req, res) =>
    void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [known.publicJwk, { kty: 'oct', kid: octKid, alg: 'HS256', k: secret }] }));

  const hitsBefore = issuer.hitsOf('/jwks.json');
  await refused(t, await issuer.sign({}, { key: await issuerKey(), header: { kid: octKid } }), 'an unknown kid, forcing a refresh');
  t.is(issuer.hitsOf('/jwks.json'), hitsBefore + 1);

  const input = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: octKid }))}.${b64(JSON.stringify(claims(issuer)))}`;
  await refused(t, `${input}.${createHmac('sha256', Buffer.from(secret, 'base64url')).update(input).digest('base64url')}`, 'HS256 with the published symmetric key');

  await accepted(t, await issuer.sign({}, { key: known }), 'the last good key still works');
  const row = (await jwksList()).find((r) => r.name === source)!;
  t.regex(String(row.last_error), /symmetric/);
  t.deepEqual(row.kids, [known.kid]);
});

test('after the source rotates, the new key works with one refresh and the old key stops working', async (t) => {
  const { issuer, source } = await trustedIssuer(t);
  const old = issuer.keys[0]!;
  const oldJwt = await issuer.sign({}, { key: old });
  await accepted(t, oldJwt, 'the old key before rotation');
  const hitsBefore = issuer.hitsOf('/jwks.json');

  const fresh = await issuer.rotate();
  await accepted(t, await issuer.sign({}, { key: fresh }), 'the new key');
  t.is(issuer.hitsOf('/jwks.json'), hitsBefore + 1);
  await accepted(t, await issuer.sign({}, { key: fresh }), 'the new key again, from memory');
  t.is(issuer.hitsOf('/jwks.json'), hitsBefore + 1);

  await refused(t, oldJwt, 'the old key after it is no longer published');
  await refused(t, await issuer.sign({}, { key: old }), 'a new JWT signed with the old key');
  t.is(issuer.hitsOf('/jwks.json'), hitsBefore + 1, 'the retired kid does not refetch within the cooldown');
  const row = (await jwksList()).find((r) => r.name === source)!;
  t.deepEqual(row.kids, [fresh.kid], 'the refreshed keys are stored');
});

/** What a restart runs: prepare, then serve, over an existing data directory. */
async function serveOn(config: Config): Promise<Serving> {
  const log = createLogger('silent');
  return serve(config, log, await prepare(config, log), { pollMs: 100 });
}

test('a restarted server verifies known keys from the database without fetching', async (t) => {
  const dir = tempDir();
  const config = testConfig(dir, { JWKS_ALLOW_PRIVATE_NETWORKS: 'true' });
  const issuer = await ExternalIssuer.start({ issuer: 'https://restart.example' });
  let serving: Serving | undefined = await serveOn(config);
  t.teardown(async () => {
    await serving?.close();
    await issuer.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const argv of [
    ['app', 'create', 'restarted', '--grants', 'jwt-bearer', '--audiences', 'https://api.example'],
    ['jwks', 'add', 'restart', '--url', issuer.jwksUrl, '--issuer', issuer.issuer, '--app', 'restarted'],
  ]) {
    const run = await runAdmin(config, argv);
    t.is(run.code, 0, run.stderr);
  }
  const hitsAfterAdd = issuer.hitsOf('/jwks.json');
  t.is(hitsAfterAdd, 1, 'the admin CLI fetched once');
  const first = await untilPropagated(
    async () => exchange(await issuer.sign(), {}, `http://127.0.0.1:${serving!.port}`),
    (a) => a.status === 200,
  );
  t.is(first.status, 200, shown(first));

  await serving.close();
  serving = undefined;
  serving = await serveOn(config);

  const answer = await exchange(await issuer.sign(), {}, `http://127.0.0.1:${serving.port}`);
  t.is(answer.status, 200, shown(answer));
  t.is(issuer.hitsOf('/jwks.json'), hitsAfterAdd);
});

test('without JWKS_ALLOW_PRIVATE_NETWORKS, loopback JWKS URLs are refused by the admin CLI without a request', async (t) => {
  const strict = await startInstance();
  t.teardown(() => strict.close());
  const run = await strict.admin('app', 'create', 'strict-app', '--grants', 'jwt-bearer', '--audiences', 'https://api.example');
  t.is(run.code, 0, run.stderr);
  const genuine = await ExternalIssuer.start({ issuer: 'https://loopback.example' });
  t.teardown(() => genuine.close());
  const listener = await localListener(t, (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(genuine.jwks())));
  const port = new URL(listener.url).port;

  const urls = [
    ['--url', `http://127.0.0.1:${port}/jwks.json`],
    ['--url', `https://localhost:${port}/jwks.json`],
    ['--url', `http://localhost:${port}/jwks.json`],
    ['--url', `https://127.0.0.1:${port}/jwks.json`],
    ['--discovery', `https://localhost:${port}/.well-known/openid-configuration`],
  ];
  for (const [index, [flag, url]] of urls.entries()) {
    const added = await strict.admin('jwks', 'add', `loopback-${index}`, flag!, url!, '--issuer', genuine.issuer, '--app', 'strict-app');
    t.is(added.code, 1, url);
    t.regex(added.stderr, /^error: [^\n]+\n$/, url);
    t.is(added.stdout, '', url);
  }
  t.is(listener.connections(), 0);
  t.is(listener.requests(), 0);
  t.is(genuine.hitsOf('/jwks.json'), 0);
  const list = await strict.admin('jwks', 'list', '--json');
  t.deepEqual(list.json(), []);
});
