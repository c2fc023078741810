import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { cacheLifetimeSeconds, JwksDocumentError, parseDiscovery, parseJwks } from '../../src/trust/jwks-document.ts';

async function jwkPair(alg: string, options: { modulusLength?: number; crv?: string } = {}): Promise<{ publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

const rsa = jwkPair('RS256');
const ec = jwkPair('ES256');
const ed = jwkPair('EdDSA', { crv: 'Ed25519' });

test('RSA, EC P-256 and Ed25519 public keys are kept', async (t) => {
  const keys = [
    { ...(await rsa).publicJwk, kid: 'rsa', alg: 'RS256', use: 'sig' },
    { ...(await ec).publicJwk, kid: 'ec', alg: 'ES256', key_ops: ['verify'] },
    { ...(await ed).publicJwk, kid: 'ed' },
  ];
  t.deepEqual(parseJwks({ keys }), keys.map(({ key_ops: _, ...key }) => key));
});

test('each kept key holds only its public members: x5c, x5t, x5u and extensions are dropped', async (t) => {
  const { publicJwk } = await ec;
  const [kept] = parseJwks({ keys: [{ ...publicJwk, kid: 'k1', x5c: ['MIIB'], x5t: 'abc', x5u: 'https://x.example/c', 'x5t#S256': 'def', n: 'stray', ext: true, custom: 1 }] });
  t.deepEqual(kept, { kty: 'EC', kid: 'k1', crv: 'P-256', x: publicJwk.x, y: publicJwk.y });
});

test('a private key anywhere in the document refuses the whole JWKS', async (t) => {
  const { publicJwk } = await ec;
  for (const privateJwk of [(await rsa).privateJwk, (await ec).privateJwk, (await ed).privateJwk]) {
    t.throws(() => parseJwks({ keys: [publicJwk, { ...privateJwk, use: 'sig' }] }), { instanceOf: JwksDocumentError, message: /key 1 .* private or symmetric key material \(d\); the whole JWKS is refused/ });
  }
  // even on a key that would be skipped anyway
  t.throws(() => parseJwks({ keys: [publicJwk, { kty: 'RSA', use: 'enc', p: 'AQAB' }] }), { instanceOf: JwksDocumentError, message: /\(p\)/ });
  const rsaJwk = (await rsa).publicJwk;
  for (const member of ['q', 'dp', 'dq', 'qi', 'oth']) {
    t.throws(() => parseJwks({ keys: [{ ...rsaJwk, [member]: 'AQAB' }] }), { instanceOf: JwksDocumentError, message: new RegExp(`\\(${member}\\)`) });
  }
});

test('a symmetric key refuses the whole JWKS', async (t) => {
  const { publicJwk } = await rsa;
  t.throws(() => parseJwks({ keys: [publicJwk, { kty: 'oct', k: 'c2VjcmV0', alg: 'HS256' }] }), { instanceOf: JwksDocumentError, message: /\(k\)/ });
  t.throws(() => parseJwks({ keys: [{ kty: 'oct', alg: 'HS256' }, publicJwk] }), { instanceOf: JwksDocumentError, message: /\(kty oct\)/ });
});

test('keys that cannot verify signatures are skipped', async (t) => {
  const { publicJwk: rsaJwk } = await rsa;
  const { publicJwk: ecJwk } = await ec;
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' });
  const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
  const skipped = [
    { ...rsaJwk, use: 'enc' },
    { ...rsaJwk, key_ops: ['encrypt'] },
    { ...rsaJwk, key_ops: 'verify' },
    { ...rsaJwk, alg: 'RSA-OAEP' },
    { ...rsaJwk, alg: 'ES256' },
    { ...ecJwk, alg: 'ES384' },
    small,
    secp256k1,
    x25519,
    { ...ecJwk, crv: 'P-384' },
    { ...ecJwk, y: undefined },
    { ...rsaJwk, n: 'AQAB' },
    // e = 1: anyone could forge its signatures; an even exponent is no RSA key either
    { ...rsaJwk, e: 'AQ' },
    { ...rsaJwk, e: 'BA' },
    { ...rsaJwk, n: 12345 },
    { ...rsaJwk, kty: 'rsa' },
    { ...rsaJwk, kid: 'k'.repeat(257) },
    { ...rsaJwk, kid: 7 },
    { n: rsaJwk.n, e: rsaJwk.e },
    'a string',
    null,
    [rsaJwk],
  ];
  t.deepEqual(parseJwks({ keys: skipped }), []);
  t.is(parseJwks({ keys: [{ ...rsaJwk, kid: 'k'.repeat(256) }] }).length, 1);
});

test('two keys with the same kid are both kept', async (t) => {
  const keys = [{ ...(await rsa).publicJwk, kid: 'same' }, { ...(await ec).publicJwk, kid: 'same' }];
  t.is(parseJwks({ keys }).length, 2);
});

test('more than 100 keys refuse the document; 100 are fine', async (t) => {
  const { publicJwk } = await ed;
  t.is(parseJwks({ keys: Array.from({ length: 100 }, () => publicJwk) }).length, 100);
  t.throws(() => parseJwks({ keys: Array.from({ length: 101 }, () => publicJwk) }), { instanceOf: JwksDocumentError, message: /101 keys, more than 100/ });
});

test('a document that is not an object with a keys array is refused', (t) => {
  for (const value of [null, 'keys', 42, [], [{ kty: 'RSA' }], {}, { keys: {} }, { keys: 'none' }]) {
    t.throws(() => parseJwks(value), { instanceOf: JwksDocumentError, message: /a JWKS must be a JSON object with a "keys" array/ });
  }
  t.deepEqual(parseJwks({ keys: [] }), []);
});

test('a discovery document gives its issuer and jwks_uri', (t) => {
  const document = { issuer: 'https://token.actions.example', jwks_uri: 'https://token.actions.example/.well-known/jwks', response_types_supported: ['id_token'] };
  t.deepEqual(parseDiscovery(document), { issuer: 'https://token.actions.example', jwksUri: 'https://token.actions.example/.well-known/jwks' });
  t.deepEqual(parseDiscovery(document, 'https://token.actions.example'), { issuer: document.issuer, jwksUri: document.jwks_uri });
  t.is(parseDiscovery({ issuer: 'http://localhost:8080', jwks_uri: 'http://localhost:8080/keys' }).jwksUri, 'http://localhost:8080/keys');
});

test('a discovery document for another issuer is refused, even one differing only by a trailing slash', (t) => {
  const document = { issuer: 'https://evil.example', jwks_uri: 'https://evil.example/jwks' };
  t.throws(() => parseDiscovery(document, 'https://ci.example'), { instanceOf: JwksDocumentError, message: 'the discovery document names issuer "https://evil.example", not "https://ci.example"' });
  t.throws(() => parseDiscovery({ issuer: 'https://ci.example/', jwks_uri: 'https://ci.example/jwks' }, 'https://ci.example'), { instanceOf: JwksDocumentError });
});

test('a malformed discovery document is refused', (t) => {
  const refusals: [unknown, RegExp][] = [
    [null, /not a JSON object/],
    [['https://ci.example'], /not a JSON object/],
    [{ jwks_uri: 'https://ci.example/jwks' }, /no issuer/],
    [{ issuer: '', jwks_uri: 'https://ci.example/jwks' }, /no issuer/],
    [{ issuer: 42, jwks_uri: 'https://ci.example/jwks' }, /no issuer/],
    [{ issuer: 'https://ci.example' }, /no jwks_uri/],
    [{ issuer: 'https://ci.example', jwks_uri: ['https://ci.example/jwks'] }, /no jwks_uri/],
    [{ issuer: 'https://ci.example', jwks_uri: '/jwks' }, /jwks_uri is not a URL/],
    [{ issuer: 'https://ci.example', jwks_uri: 'file:///etc/jwks.json' }, /jwks_uri is not an https URL/],
    [{ issuer: 'https://ci.example', jwks_uri: 'javascript:alert(1)' }, /jwks_uri is not an https URL/],
  ];
  for (const [value, message] of refusals) t.throws(() => parseDiscovery(value), { instanceOf: JwksDocumentError, message });
});

test('cacheLifetimeSeconds clamps max-age into its bounds and falls back without one', (t) => {
  const bounds = { minSeconds: 60, maxSeconds: 86_400, fallbackSeconds: 3_600 };
  t.is(cacheLifetimeSeconds(undefined, bounds), 3_600);
  t.is(cacheLifetimeSeconds(0, bounds), 60);
  t.is(cacheLifetimeSeconds(59, bounds), 60);
  t.is(cacheLifetimeSeconds(600, bounds), 600);
  t.is(cacheLifetimeSeconds(86_400, bounds), 86_400);
  t.is(cacheLifetimeSeconds(2 ** 31, bounds), 86_400);
  t.is(cacheLifetimeSeconds(Number.NaN, bounds), 3_600);
});
