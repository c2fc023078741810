import test from 'ava';
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, importJWK, importPKCS8, jwtVerify, SignJWT } from 'jose';
import { SIGNING_ALGS } from '../../src/config.ts';
import { decryptPrivateKey } from '../../src/keys/encryption.ts';
import { generateSigningKey } from '../../src/keys/generate.ts';

const kek = randomBytes(32);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const EXPECTED: Record<(typeof SIGNING_ALGS)[number], Record<string, unknown>> = {
  RS256: { kty: 'RSA', e: 'AQAB' },
  PS256: { kty: 'RSA', e: 'AQAB' },
  ES256: { kty: 'EC', crv: 'P-256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
};

for (const alg of SIGNING_ALGS) {
  test(`${alg}: the kid is the RFC 7638 thumbprint of the public JWK`, async (t) => {
    const key = await generateSigningKey(alg, kek);
    t.is(key.alg, alg);
    t.is(key.kid, await calculateJwkThumbprint(key.publicJwk as Parameters<typeof calculateJwkThumbprint>[0], 'sha256'));
    t.regex(key.kid, /^[A-Za-z0-9_-]{43}$/);
  });

  test(`${alg}: the public JWK has the right type and no private members`, async (t) => {
    const key = await generateSigningKey(alg, kek);
    t.like(key.publicJwk, { ...EXPECTED[alg], kid: key.kid, use: 'sig', alg });
    for (const name of PRIVATE_MEMBERS) t.false(name in key.publicJwk, `publicJwk has ${name}`);
    if (alg === 'RS256' || alg === 'PS256') t.is(Buffer.from(key.publicJwk.n as string, 'base64url').length, 256);
  });

  test(`${alg}: the private key is encrypted under the KEK, bound to the kid, and signs what the public JWK verifies`, async (t) => {
    const key = await generateSigningKey(alg, kek);
    t.false(key.privateKey.includes('PRIVATE KEY'));
    t.throws(() => decryptPrivateKey(randomBytes(32), key.kid, key.privateKey));
    t.throws(() => decryptPrivateKey(kek, `${key.kid}x`, key.privateKey));
    const pem = decryptPrivateKey(kek, key.kid, key.privateKey);
    t.regex(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    const jwt = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg, kid: key.kid }).sign(await importPKCS8(pem, alg));
    const { payload } = await jwtVerify(jwt, await importJWK(key.publicJwk, alg));
    t.is(payload.sub, 'x');
  });
}

test('every key is new', async (t) => {
  const [a, b] = await Promise.all([generateSigningKey('ES256', kek), generateSigningKey('ES256', kek)]);
  t.not(a.kid, b.kid);
});
