// Verification certificates: an X.509 certificate or a bare SPKI public key, as PEM, whose key
// verifies input JWTs. No private key is ever needed, and one offered is refused.
import { createHash, createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface ParsedVerificationKey {
  kind: 'x509' | 'spki';
  /** the certificate or public key re-encoded from what was parsed: the only PEM ever stored */
  pem: string;
  /** the public key as a JWK (public members only) */
  jwk: JsonWebKey;
  /** SHA-256 of the DER (certificate or SPKI), lowercase hex */
  fingerprint: string;
  notBefore: Date | null;
  expiresAt: Date | null;
  /** the JWS algorithms this key can verify */
  algorithms: string[];
}

export class CertificateError extends Error {}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;
const PRIVATE_MATERIAL = /PRIVATE KEY|BEGIN [A-Z0-9 ]*PRIVATE/i;
/** Outside the PEM block only comments may stand (openssl's bag attributes, a subject line): no encoded blob, no JWK. */
const KEY_LIKE_TEXT = /[A-Za-z0-9+/=_-]{32,}|"(?:d|p|q|k)"\s*:/;
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

/**
 * One certificate or public key, PEM. Input holding private key material anywhere (in any block,
 * before or after the public one) is refused whole: it must never reach the database.
 */
export function parseVerificationPem(pem: string): ParsedVerificationKey {
  if (PRIVATE_MATERIAL.test(pem)) throw new CertificateError('this holds a private key: only a certificate or a public key is needed, never the private key');
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new CertificateError('no PEM block found: give an X.509 certificate or a public key in PEM');
  if (blocks.length > 1) throw new CertificateError(`the file holds ${blocks.length} PEM blocks: give exactly one certificate or public key (of a chain, the certificate whose key signs)`);
  if (KEY_LIKE_TEXT.test(pem.replace(blocks[0]![0], ''))) {
    throw new CertificateError('the file holds encoded data outside its PEM block (possibly a private key): give the certificate or public key alone');
  }
  return parsePublicBlock(blocks[0]!);
}

/**
 * The first certificate or public key of a PEM text, ignoring anything else in it, re-encoded.
 * Only for repairing what an earlier version stored; new input goes through parseVerificationPem.
 */
export function publicPartOf(pem: string): ParsedVerificationKey {
  const block = [...pem.matchAll(PEM_BLOCK)].find((b) => b[1] === 'CERTIFICATE' || b[1] === 'PUBLIC KEY');
  if (!block) throw new CertificateError('no certificate or public key in the stored PEM');
  return parsePublicBlock(block);
}

function parsePublicBlock(block: RegExpMatchArray): ParsedVerificationKey {
  const label = block[1]!;
  if (label !== 'CERTIFICATE' && label !== 'PUBLIC KEY') throw new CertificateError(`unsupported PEM block "${label}": give a CERTIFICATE or a PUBLIC KEY`);
  try {
    return label === 'CERTIFICATE' ? fromCertificate(block[0]) : fromPublicKey(block[0]);
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    // a key of a type no JWT algorithm uses (DSA, DH, X25519): Node cannot even describe it as a JWK
    throw new CertificateError('the key is of a type no JWT algorithm tokenmint accepts uses: give an RSA, EC (P-256, P-384, P-521) or Ed25519 key');
  }
}

function fromCertificate(pem: string): ParsedVerificationKey {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new CertificateError('the certificate cannot be parsed');
  }
  return {
    ...describeKey(cert.publicKey),
    kind: 'x509',
    pem: cert.toString().trim(),
    fingerprint: createHash('sha256').update(cert.raw).digest('hex'),
    notBefore: new Date(cert.validFrom),
    expiresAt: new Date(cert.validTo),
  };
}

function fromPublicKey(pem: string): ParsedVerificationKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new CertificateError('the public key cannot be parsed');
  }
  const der = key.export({ format: 'der', type: 'spki' });
  const reencoded = key.export({ format: 'pem', type: 'spki' }).toString().trim();
  return { ...describeKey(key), kind: 'spki', pem: reencoded, fingerprint: createHash('sha256').update(der).digest('hex'), notBefore: null, expiresAt: null };
}

function describeKey(key: KeyObject): { jwk: JsonWebKey; algorithms: string[] } {
  return { jwk: key.export({ format: 'jwk' }), algorithms: keyAlgorithms(key) };
}

/** The JWS algorithms a public key can verify; a key tokenmint does not accept throws CertificateError. */
export function keyAlgorithms(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) throw new CertificateError(`RSA keys must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits (this one has ${bits})`);
      // a tiny or even exponent (e = 1 above all) lets anyone forge signatures
      const exponent = key.asymmetricKeyDetails?.publicExponent ?? 0n;
      if (exponent < 3n || exponent % 2n === 0n || exponent >= 2n ** 32n) throw new CertificateError('the RSA public exponent must be odd and between 3 and 2^32 (usually 65537)');
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    }
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
      const alg = ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as Record<string, string>)[curve];
      if (!alg) throw new CertificateError(`unsupported EC curve ${curve}: use P-256, P-384 or P-521`);
      return [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      throw new CertificateError(`unsupported key type ${key.asymmetricKeyType}: use RSA, EC (P-256/384/521) or Ed25519`);
  }
}
