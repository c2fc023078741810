import test from 'ava';
import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { InputJwtError, verifyInputJwt, type InputJwtPolicy, type KeyResolver } from '../../src/trust/verify-input-jwt.ts';

const ISSUER = 'https://ci.example';
const US = 'https://issuer.tokenmint.test';
const NOW = 1_800_000_000;

type Pair = { publicKey: KeyObject; privateKey: KeyObject };
const keys = new Map<string, Promise<Pair>>();
function pair(alg: string): Promise<Pair> {
  if (!keys.has(alg)) keys.set(alg, generateKeyPair(alg, { extractable: true }) as unknown as Promise<Pair>);
  return keys.get(alg)!;
}

const policy = (over: Partial<InputJwtPolicy> = {}): InputJwtPolicy => ({
  algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
  issuer: ISSUER,
  audience: { mode: 'any-of', values: [US] },
  leewaySeconds: 60,
  maxLifetimeSeconds: 3600,
  ...over,
});

/** A resolver over one trusted key, as a bound certificate would give. */
const trusting = (publicKey: KeyObject, kid = 'k1'): KeyResolver => async (hint) => (hint.kid === undefined || hint.kid === kid ? [{ key: publicKey, source: 'cert:ci' }] : []);

const claims = (over: JWTPayload = {}): JWTPayload => ({ iss: ISSUER, aud: US, sub: 'repo:acme/app', iat: NOW - 10, exp: NOW + 300, jti: 'j1', ...over });

async function sign(alg: string, payload: JWTPayload = claims(), header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, kid: 'k1', ...header }).sign((await pair(alg)).privateKey);
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function refused(t: import('ava').ExecutionContext, token: string, reason: RegExp, p = policy(), resolver?: KeyResolver) {
  const error = await t.throwsAsync(verifyInputJwt(token, p, resolver ?? trusting((await pair('RS256')).publicKey), NOW * 1000), { instanceOf: InputJwtError });
  t.regex(error!.reason, reason);
}

for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
  test(`a ${alg} JWT from a trusted key is accepted`, async (t) => {
    const token = await sign(alg);
    const result = await verifyInputJwt(token, policy(), trusting((await pair(alg)).publicKey), NOW * 1000);
    t.is(result.claims.sub, 'repo:acme/app');
    t.is(result.source, 'cert:ci');
  });
}

test('alg none is refused in any spelling', async (t) => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    await refused(t, `${b64({ alg, kid: 'k1' })}.${b64(claims())}.`, /compact JWS/);
    await refused(t, `${b64({ alg, kid: 'k1' })}.${b64(claims())}.AAAA`, /algorithm/);
  }
});

test('HS256 signed with the public key as the secret is refused', async (t) => {
  const { publicKey } = await pair('RS256');
  const secret = await exportSPKI(publicKey);
  const unsigned = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64(claims())}`;
  const mac = createHmac('sha256', secret).update(unsigned).digest('base64url');
  await refused(t, `${unsigned}.${mac}`, /algorithm HS256 not allowed/);
});

test('an algorithm outside the source allowlist is refused even with a valid signature', async (t) => {
  const token = await sign('PS256');
  await refused(t, token, /algorithm PS256 not allowed/, policy({ algorithms: ['RS256'] }), trusting((await pair('PS256')).publicKey));
});

test('an embedded jwk, jku or x5u never supplies the key', async (t) => {
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = await exportJWK(attacker.publicKey);
  for (const header of [{ jwk }, { jku: 'http://127.0.0.1:9/jwks' }, { x5u: 'http://127.0.0.1:9/cert' }]) {
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'k1', ...header }).sign(attacker.privateKey);
    await refused(t, token, /signature does not verify/);
  }
});

/** Signs any header and payload text as given, RS256, bypassing a library's own checks. */
async function signRaw(header: string, payload: string): Promise<string> {
  const { privateKey } = await pair('RS256');
  const { createSign, KeyObject: NodeKeyObject } = await import('node:crypto');
  const input = `${b64(header)}.${b64(payload)}`;
  const key = NodeKeyObject.from(privateKey as unknown as import('node:crypto').webcrypto.CryptoKey);
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

test('an unknown crit header is refused', async (t) => {
  await refused(t, await signRaw('{"alg":"RS256","kid":"k1","crit":["exp-policy"],"exp-policy":1}', JSON.stringify(claims())), /crit/);
});

test('an ES256 all-zero signature is refused', async (t) => {
  const token = await sign('ES256');
  const [h, p] = token.split('.');
  await refused(t, `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`, /signature/, policy(), trusting((await pair('ES256')).publicKey));
});

test('a tampered payload is refused', async (t) => {
  const [h, , s] = (await sign('RS256')).split('.');
  await refused(t, `${h}.${b64(claims({ sub: 'repo:acme/admin' }))}.${s}`, /signature/);
});

test('claims or a header nested deeper than 20 levels are refused; 20 levels are accepted', async (t) => {
  const nest = (depth: number) => `${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}`;
  const body = (depth: number) => JSON.stringify(claims()).slice(0, -1) + `,"deep":${nest(depth)}}`;
  await refused(t, await signRaw('{"alg":"RS256","kid":"k1"}', body(3000)), /^payload nests deeper than 20 levels$/);
  await refused(t, await signRaw(`{"alg":"RS256","kid":"k1","x":${nest(21)}}`, JSON.stringify(claims())), /^header nests deeper than 20 levels$/);
  const accepted = await verifyInputJwt(await signRaw('{"alg":"RS256","kid":"k1"}', body(19)), policy(), trusting((await pair('RS256')).publicKey), NOW * 1000);
  t.is(accepted.claims.sub, 'repo:acme/app');
});

test('duplicate member names in header or payload are refused', async (t) => {
  const body = JSON.stringify(claims());
  await refused(t, await signRaw('{"alg":"RS256","kid":"k1"}', `${body.slice(0, -1)},"sub":"repo:acme/admin"}`), /payload repeats member sub/);
  await refused(t, await signRaw('{"alg":"RS256","kid":"k1","kid":"k2"}', body), /header repeats member kid/);
});

test('JWE and JSON serialization are refused', async (t) => {
  await refused(t, 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', /compact JWS/);
  const [h, p, s] = (await sign('RS256')).split('.');
  await refused(t, JSON.stringify({ protected: h, payload: p, signature: s }), /compact JWS/);
});

test('absurd exp values are refused', async (t) => {
  for (const exp of ['1900000000', 1e20, -5, 0, Number.MAX_SAFE_INTEGER]) {
    await refused(t, await sign('RS256', claims({ exp: exp as number })), /exp|expired|lifetime/);
  }
});

test('a missing exp is refused', async (t) => {
  const payload = claims();
  delete payload.exp;
  await refused(t, await sign('RS256', payload), /exp missing/);
});

test('nbf or iat in the future beyond the leeway is refused; within it accepted', async (t) => {
  await refused(t, await sign('RS256', claims({ nbf: NOW + 120 })), /nbf/);
  await refused(t, await sign('RS256', claims({ iat: NOW + 120 })), /iat/);
  const ok = await sign('RS256', claims({ nbf: NOW + 30 }));
  await t.notThrowsAsync(verifyInputJwt(ok, policy(), trusting((await pair('RS256')).publicKey), NOW * 1000));
});

test('a lifetime over the cap is refused', async (t) => {
  await refused(t, await sign('RS256', claims({ iat: NOW, exp: NOW + 7200 })), /lifetime/);
});

test('an expired JWT is refused', async (t) => {
  await refused(t, await sign('RS256', claims({ iat: NOW - 900, exp: NOW - 61 })), /expired/);
});

test('a wrong iss is refused', async (t) => {
  await refused(t, await sign('RS256', claims({ iss: 'https://evil.example' })), /iss/);
});

test('private_key_jwt: aud must be exactly the issuer, as a string or a one-element array', async (t) => {
  const strict = policy({ audience: { mode: 'exactly-one', values: [US] }, subject: 'repo:acme/app' });
  const key = trusting((await pair('RS256')).publicKey);
  await t.notThrowsAsync(verifyInputJwt(await sign('RS256', claims({ aud: [US] })), strict, key, NOW * 1000));
  await refused(t, await sign('RS256', claims({ aud: [US, 'https://other.example'] })), /aud/, strict, key);
  await refused(t, await sign('RS256', claims({ aud: `${US}/token` })), /aud/, strict, key);
  await refused(t, await sign('RS256', claims({ sub: 'someone-else' })), /sub/, strict, key);
  // compat accepts the token endpoint too, but still as the only audience
  const compat = policy({ audience: { mode: 'exactly-one', values: [US, `${US}/token`] }, subject: 'repo:acme/app' });
  await t.notThrowsAsync(verifyInputJwt(await sign('RS256', claims({ aud: `${US}/token` })), compat, key, NOW * 1000));
  await refused(t, await sign('RS256', claims({ aud: ['https://other-as.example', US] })), /aud/, compat, key);
});

test('a kid or typ that is not a string is refused', async (t) => {
  const key = trusting((await pair('RS256')).publicKey);
  for (const header of [{ kid: 7 }, { kid: { a: 1 } }, { typ: ['at+jwt'] }]) {
    await refused(t, await sign('RS256', claims(), header), /kid|typ/, undefined, key);
  }
});

test('our own access token (typ at+jwt) is never accepted as an assertion', async (t) => {
  for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt']) {
    await refused(t, await sign('RS256', claims(), { typ }), /access token/);
  }
});

test('a key bound elsewhere (not returned by the resolver) does not verify', async (t) => {
  const other = (await generateKeyPair('RS256')).publicKey as unknown as KeyObject;
  await refused(t, await sign('RS256'), /signature/, policy(), async () => [{ key: other, source: 'cert:other' }]);
  await refused(t, await sign('RS256', claims(), { kid: 'unknown' }), /no trusted key with kid unknown/);
});

test('an oversized JWT is refused before any parsing', async (t) => {
  await refused(t, `${b64({ alg: 'RS256' })}.${'A'.repeat(20_000)}.AAAA`, /too large/);
});

test('a JWT presented again is accepted again, and its claims are checked on every presentation', async (t) => {
  const token = await sign('ES256', claims({ jti: 'again' }));
  const resolver = trusting((await pair('ES256')).publicKey);
  t.is((await verifyInputJwt(token, policy(), resolver, NOW * 1000)).claims.jti, 'again');
  t.is((await verifyInputJwt(token, policy(), resolver, NOW * 1000 + 1000)).claims.jti, 'again');
  // exp is NOW + 300 with 60 s of leeway
  const late = await t.throwsAsync(verifyInputJwt(token, policy(), resolver, (NOW + 400) * 1000), { instanceOf: InputJwtError });
  t.regex(late!.reason, /expired/);
  const elsewhere = await t.throwsAsync(verifyInputJwt(token, policy({ issuer: 'https://other.example' }), resolver, NOW * 1000), { instanceOf: InputJwtError });
  t.regex(elsewhere!.reason, /iss not trusted/);
});

test('a JWT that verified before is refused once its key is no longer trusted, and checked afresh against a re-imported key', async (t) => {
  const token = await sign('RS256', claims({ jti: 'rotated' }));
  const { publicKey } = await pair('RS256');
  t.is((await verifyInputJwt(token, policy(), trusting(publicKey), NOW * 1000)).source, 'cert:ci');
  // the source now publishes another key under the same kid
  const other = (await generateKeyPair('RS256')).publicKey as unknown as KeyObject;
  await refused(t, token, /signature does not verify/, policy(), trusting(other));
  // the same key, imported anew (a JWKS fetched again): a new object, so the signature is checked again, and holds
  const reimported = createPublicKey(await exportSPKI(publicKey));
  t.is((await verifyInputJwt(token, policy(), async () => [{ key: reimported, source: 'jwks:ci' }], NOW * 1000)).source, 'jwks:ci');
});

test('a JWT altered after it verified is refused', async (t) => {
  const token = await sign('ES256', claims({ jti: 'altered' }));
  const resolver = trusting((await pair('ES256')).publicKey);
  await verifyInputJwt(token, policy(), resolver, NOW * 1000);
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
  await refused(t, `${header}.${payload}.${flipped}`, /signature does not verify/, policy(), resolver);
  await refused(t, `${header}.${b64(claims({ jti: 'altered', sub: 'someone-else' }))}.${signature}`, /signature does not verify/, policy(), resolver);
});
