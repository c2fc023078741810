import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type { SigningAlg } from '../../src/config.ts';
import { generateSigningKey } from '../../src/keys/generate.ts';
import { Keystore } from '../../src/keys/keystore.ts';
import type { SigningKeyRecord, SigningKeyState } from '../../src/store/types.ts';

const kek = randomBytes(32);
const NOW = new Date('2026-06-01T12:00:00Z');
const HOUR = 3600_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

async function record(alg: SigningAlg, state: SigningKeyState, extra: Partial<SigningKeyRecord> = {}): Promise<SigningKeyRecord> {
  const key = await generateSigningKey(alg, kek);
  return {
    kid: key.kid,
    alg: key.alg,
    state,
    publicJwk: key.publicJwk,
    privateKey: key.privateKey,
    createdAt: at(-48 * HOUR),
    activatedAt: state === 'next' ? null : at(-24 * HOUR),
    retiredAt: state === 'retired' ? at(-HOUR) : null,
    publishUntil: null,
    promoteAt: null,
    removedAt: null,
    ...extra,
  };
}

const kidsOf = (keystore: Keystore) => (JSON.parse(keystore.jwksBody) as JSONWebKeySet).keys.map((k) => k.kid);

let next: SigningKeyRecord;
let active: SigningKeyRecord;
let retiredStillPublished: SigningKeyRecord;
let retiredExpired: SigningKeyRecord;
let retiredJustExpired: SigningKeyRecord;
let retiredWithoutDate: SigningKeyRecord;
let keystore: Keystore;

test.before(async () => {
  next = await record('ES256', 'next');
  active = await record('ES256', 'active');
  retiredStillPublished = await record('ES256', 'retired', { publishUntil: at(HOUR) });
  retiredExpired = await record('ES256', 'retired', { publishUntil: at(-HOUR) });
  retiredJustExpired = await record('ES256', 'retired', { publishUntil: NOW });
  retiredWithoutDate = await record('ES256', 'retired', { publishUntil: null });
  keystore = await Keystore.load([next, active, retiredStillPublished, retiredExpired, retiredJustExpired, retiredWithoutDate], kek, NOW);
});

test('the JWKS publishes the next, the active and unexpired retired keys', (t) => {
  t.deepEqual(kidsOf(keystore).sort(), [next.kid, active.kid, retiredStillPublished.kid].sort());
});

test('retired keys past their publish-until time are not published', (t) => {
  const kids = kidsOf(keystore);
  for (const gone of [retiredExpired, retiredJustExpired, retiredWithoutDate]) t.false(kids.includes(gone.kid));
});

test('the active key is the one that signs', (t) => {
  t.is(keystore.active?.kid, active.kid);
  t.is(keystore.active?.alg, 'ES256');
});

test('published keys carry kid, use and alg and only public members', async (t) => {
  const leaky = await record('RS256', 'active');
  // as if the stored JSON had been written with private members
  leaky.publicJwk = { ...leaky.publicJwk, d: 'secret', p: 'secret', q: 'secret', dp: 'secret', dq: 'secret', qi: 'secret', k: 'secret', x5c: ['MII'] };
  const store = await Keystore.load([leaky], kek, NOW);
  const [jwk] = (JSON.parse(store.jwksBody) as JSONWebKeySet).keys;
  t.deepEqual(Object.keys(jwk!).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
  t.like(jwk, { kid: leaky.kid, use: 'sig', alg: 'RS256', kty: 'RSA' });
  t.false(store.jwksBody.includes('secret'));
});

test('kid and alg come from the record, not from the stored JSON', async (t) => {
  const tampered = await record('ES256', 'active');
  tampered.publicJwk = { ...tampered.publicJwk, kid: 'spoofed', alg: 'none', use: 'enc' };
  const store = await Keystore.load([tampered], kek, NOW);
  const [jwk] = (JSON.parse(store.jwksBody) as JSONWebKeySet).keys;
  t.like(jwk, { kid: tampered.kid, alg: 'ES256', use: 'sig' });
});

for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
  test(`the active ${alg} key signs a JWT that jose verifies with the published JWKS`, async (t) => {
    const store = await Keystore.load([await record(alg, 'active')], kek, NOW);
    const signer = store.active!;
    const jwt = await signer.sign('at+jwt', { sub: 'svc', iat: 1 });
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(JSON.parse(store.jwksBody) as JSONWebKeySet), { algorithms: [alg], typ: 'at+jwt' });
    t.deepEqual(payload, { sub: 'svc', iat: 1 });
    t.deepEqual(protectedHeader, { alg, kid: signer.kid, typ: 'at+jwt' });
    // a second typ gets its own header; the first is not disturbed
    t.is(decodeProtectedHeader(await signer.sign('token-introspection+jwt', {})).typ, 'token-introspection+jwt');
    t.is(decodeProtectedHeader(await signer.sign('at+jwt', {})).typ, 'at+jwt');
  });
}

test('a token signed by the active key verifies through the full published set', async (t) => {
  const signer = keystore.active!;
  const jwt = await signer.sign('at+jwt', { sub: 'svc' });
  t.is(decodeProtectedHeader(jwt).kid, active.kid);
  await t.notThrowsAsync(jwtVerify(jwt, createLocalJWKSet(JSON.parse(keystore.jwksBody) as JSONWebKeySet)));
});

test('with several active keys, the most recently activated one signs', async (t) => {
  const older = await record('ES256', 'active', { activatedAt: at(-10 * HOUR) });
  const newer = await record('ES256', 'active', { activatedAt: at(-HOUR) });
  t.is((await Keystore.load([newer, older], kek, NOW)).active?.kid, newer.kid);
  t.is((await Keystore.load([older, newer], kek, NOW)).active?.kid, newer.kid);
});

test('without an active key nothing signs, but next keys are still published', async (t) => {
  const store = await Keystore.load([next], kek, NOW);
  t.is(store.active, null);
  t.deepEqual(kidsOf(store), [next.kid]);
});

test('an empty keystore publishes an empty JWKS', async (t) => {
  const store = await Keystore.load([], kek, NOW);
  t.is(store.jwksBody, '{"keys":[]}');
  t.is(store.active, null);
});

test('an active key that cannot be decrypted with this KEK fails the load', async (t) => {
  await t.throwsAsync(Keystore.load([active], randomBytes(32), NOW), { message: /cannot be decrypted/ });
});

test('the ETag is a quoted hash that changes with the published set', async (t) => {
  t.regex(keystore.jwksEtag, /^"[A-Za-z0-9_-]{27}"$/);
  const same = await Keystore.load([next, active, retiredStillPublished, retiredExpired], kek, NOW);
  t.is(same.jwksEtag, keystore.jwksEtag);
  const later = await Keystore.load([next, active, retiredStillPublished], kek, at(2 * HOUR));
  t.not(later.jwksEtag, keystore.jwksEtag);
  t.false(kidsOf(later).includes(retiredStillPublished.kid));
});
