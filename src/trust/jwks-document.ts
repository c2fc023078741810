import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { JWK } from 'jose';
import { keyAlgorithms } from './certificates.ts';

export const MAX_JWKS_KEYS = 100;
const MAX_KID_LENGTH = 256;
/** Members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** The members each key type verifies with; everything else (x5c, x5u, x5t, …) is dropped. */
const PUBLIC_MEMBERS: Record<string, string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };

export class JwksDocumentError extends Error {}

type Members = Record<string, unknown>;

const isObject = (value: unknown): value is Members => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates a JWKS document and returns its usable public signature keys. A document that
 * publishes any private or symmetric key is refused whole: its publisher leaks secrets, and
 * none of its keys deserve trust. Keys that cannot verify signatures are skipped.
 */
export function parseJwks(value: unknown): JWK[] {
  if (!isObject(value) || !Array.isArray(value.keys)) throw new JwksDocumentError('a JWKS must be a JSON object with a "keys" array');
  const keys: unknown[] = value.keys;
  if (keys.length > MAX_JWKS_KEYS) throw new JwksDocumentError(`the JWKS has ${keys.length} keys, more than ${MAX_JWKS_KEYS}`);
  keys.forEach((key, index) => {
    if (!isObject(key)) return;
    const secret = SECRET_MEMBERS.find((member) => Object.hasOwn(key, member));
    if (secret !== undefined || key.kty === 'oct') {
      throw new JwksDocumentError(`key ${index} of the JWKS holds private or symmetric key material (${secret ?? 'kty oct'}); the whole JWKS is refused`);
    }
  });
  return keys.flatMap((key) => {
    const usable = isObject(key) ? usableSignatureKey(key) : undefined;
    return usable === undefined ? [] : [usable];
  });
}

/** The key's public members when it can verify signatures, else undefined. */
function usableSignatureKey(key: Members): JWK | undefined {
  const { kty, kid, alg, use, key_ops: keyOps } = key;
  if (typeof kty !== 'string' || !Object.hasOwn(PUBLIC_MEMBERS, kty)) return undefined;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH)) return undefined;
  if (use !== undefined && use !== 'sig') return undefined;
  if (keyOps !== undefined && (!Array.isArray(keyOps) || !keyOps.includes('verify'))) return undefined;

  const clean: Members = { kty };
  if (kid !== undefined) clean.kid = kid;
  if (alg !== undefined) clean.alg = alg;
  if (use !== undefined) clean.use = use;
  for (const member of PUBLIC_MEMBERS[kty]!) {
    if (key[member] === undefined) continue;
    if (typeof key[member] !== 'string') return undefined;
    clean[member] = key[member];
  }
  let algorithms: string[];
  try {
    // the same limits as certificates: RSA size and exponent, curves
    algorithms = keyAlgorithms(createPublicKey({ key: clean as JsonWebKey, format: 'jwk' }));
  } catch {
    return undefined;
  }
  // a key's `alg`, when present, must be one the key can verify
  if (alg !== undefined && (typeof alg !== 'string' || !algorithms.includes(alg))) return undefined;
  return clean as JWK;
}

/** OpenID Connect Discovery 1.0: the issuer and jwks_uri of a discovery document. */
export function parseDiscovery(value: unknown, expectedIssuer?: string): { issuer: string; jwksUri: string } {
  if (!isObject(value)) throw new JwksDocumentError('the discovery document is not a JSON object');
  const { issuer, jwks_uri: jwksUri } = value;
  if (typeof issuer !== 'string' || issuer === '') throw new JwksDocumentError('the discovery document has no issuer');
  if (typeof jwksUri !== 'string') throw new JwksDocumentError('the discovery document has no jwks_uri');
  // OpenID Connect Discovery 1.0 §4.3: the issuer must be exactly the one the document was looked up for
  if (expectedIssuer !== undefined && issuer !== expectedIssuer) {
    throw new JwksDocumentError(`the discovery document names issuer ${quote(issuer)}, not ${quote(expectedIssuer)}`);
  }
  let scheme: string;
  try {
    scheme = new URL(jwksUri).protocol;
  } catch {
    throw new JwksDocumentError('the discovery document\'s jwks_uri is not a URL');
  }
  // fetchJson decides whether http is allowed; here the scheme only has to be a web one
  if (scheme !== 'https:' && scheme !== 'http:') throw new JwksDocumentError('the discovery document\'s jwks_uri is not an https URL');
  return { issuer, jwksUri };
}

/** Clamp a Cache-Control lifetime into [minSeconds, maxSeconds]; undefined → fallbackSeconds. */
export function cacheLifetimeSeconds(maxAge: number | undefined, bounds: { minSeconds: number; maxSeconds: number; fallbackSeconds: number }): number {
  if (maxAge === undefined || !Number.isFinite(maxAge)) return bounds.fallbackSeconds;
  return Math.min(bounds.maxSeconds, Math.max(bounds.minSeconds, maxAge));
}

/** A remote string for a one-line message: JSON-quoted, bounded. */
function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}
