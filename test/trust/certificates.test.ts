import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateError, parseVerificationPem, publicPartOf } from '../../src/trust/certificates.ts';

const generate = generateKeyPairSync as unknown as (type: string, options: object) => { publicKey: KeyObject };
const spki = (type: 'rsa' | 'ec' | 'ed25519', options: object = {}) => generate(type, options).publicKey.export({ format: 'pem', type: 'spki' }).toString();

test('SPKI public keys of each supported type give a public JWK, a fingerprint and the algorithms they verify', (t) => {
  const cases: [string, string, string[]][] = [
    [spki('rsa', { modulusLength: 2048 }), 'RSA', ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']],
    [spki('ec', { namedCurve: 'P-256' }), 'EC', ['ES256']],
    [spki('ec', { namedCurve: 'P-384' }), 'EC', ['ES384']],
    [spki('ec', { namedCurve: 'P-521' }), 'EC', ['ES512']],
    [spki('ed25519'), 'OKP', ['EdDSA', 'Ed25519']],
  ];
  for (const [pem, kty, algorithms] of cases) {
    const parsed = parseVerificationPem(pem);
    t.is(parsed.kind, 'spki');
    t.is(parsed.jwk.kty, kty);
    t.false('d' in parsed.jwk);
    t.regex(parsed.fingerprint, /^[0-9a-f]{64}$/);
    t.deepEqual(parsed.algorithms, algorithms);
    t.is(parsed.expiresAt, null);
  }
});

test('an X.509 certificate gives its key, fingerprint and validity', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenmint-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '30', '-subj', '/CN=partner'], { stdio: 'ignore' });
    const parsed = parseVerificationPem(readFileSync(join(dir, 'c.pem'), 'utf8'));
    t.is(parsed.kind, 'x509');
    t.deepEqual(parsed.algorithms, ['ES256']);
    t.true(parsed.expiresAt!.getTime() > Date.now() + 29 * 86_400_000);
    t.true(parsed.notBefore!.getTime() <= Date.now());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** An RSA public key with e = 1, for which anyone can forge a signature. */
function exponentOne(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), e: 'AQ' };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
}

test('a private key is refused, and so are weak or unsupported keys and garbage', (t) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const refusals: [string, RegExp][] = [
    [privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), /private key/],
    [privateKey.export({ format: 'pem', type: 'sec1' }).toString(), /private key/],
    [spki('rsa', { modulusLength: 1024 }), /2048 to 8192 bits/],
    [exponentOne(), /exponent/],
    [spki('ec', { namedCurve: 'secp256k1' }), /unsupported EC curve/],
    ['hello', /no PEM block/],
    ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', /cannot be parsed/],
    ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', /cannot be parsed/],
  ];
  for (const [pem, message] of refusals) t.throws(() => parseVerificationPem(pem), { instanceOf: CertificateError, message });
});

test('private key material anywhere in the input is refused, before or after the public block', (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const cases = [
    `${pub}${privateKey.export({ format: 'pem', type: 'sec1' })}`,
    `${pub}\n${privateKey.export({ format: 'pem', type: 'pkcs8' })}`,
    `${privateKey.export({ format: 'pem', type: 'pkcs8' })}${pub}`,
    `${pub}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n`,
    `${pub}-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n`,
  ];
  for (const pem of cases) t.throws(() => parseVerificationPem(pem), { instanceOf: CertificateError, message: /private key/ });
});

test('key material outside the PEM block (a bare base64 DER, a JWK with its private members) is refused too', (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  const jwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
  for (const pem of [`${pub}${der}\n`, `${jwk}\n${pub}`]) {
    t.throws(() => parseVerificationPem(pem), { instanceOf: CertificateError, message: /outside its PEM block/ });
  }
  // a comment an export tool writes is not key material
  t.notThrows(() => parseVerificationPem(`Bag Attributes\n    localKeyID: 3F 2A 91 0C\nsubject=CN = partner.example.com\n${pub}`));
});

test('one key per name: a file with several certificates or keys is refused', (t) => {
  t.throws(() => parseVerificationPem(`${spki('ed25519')}${spki('ed25519')}`), { instanceOf: CertificateError, message: /2 PEM blocks/ });
});

test('what is kept is the public part re-encoded, never the text given', (t) => {
  const pub = spki('ec', { namedCurve: 'P-256' });
  const parsed = parseVerificationPem(`a comment line\n${pub.replace(/\n/g, '\r\n')}trailing text\n`);
  t.is(parsed.pem, pub.trim());
  t.false(parsed.pem.includes('comment') || parsed.pem.includes('trailing'));
});

test('the public part of a stored text that also holds a private key can be recovered', (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const recovered = publicPartOf(`${privateKey.export({ format: 'pem', type: 'pkcs8' })}${pub}`);
  t.is(recovered.pem, pub.trim());
  t.false(recovered.pem.includes('PRIVATE'));
});
