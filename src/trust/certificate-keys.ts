import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { VerificationCertificate } from '../store/types.ts';
import { keyAlgorithms } from './certificates.ts';
import type { KeyResolver, VerificationKey } from './verify-input-jwt.ts';

export interface CertificateKey extends VerificationKey {
  algorithms: string[];
  expiresAt: Date | null;
}

/** A certificate's public key, imported from the stored JWK (callers cache it with the certificate). */
export function certificateKey(cert: VerificationCertificate): CertificateKey {
  const key = createPublicKey({ key: cert.jwk as JsonWebKey, format: 'jwk' });
  return { key, source: `certificate:${cert.name}`, algorithms: keyAlgorithms(key), expiresAt: cert.expiresAt };
}

/**
 * Resolves an input JWT's key to the certificate's, while it is unexpired and can verify the JWT's
 * algorithm (a caller's `kid` names nothing we stored).
 */
export function certificateResolver(key: CertificateKey, now = () => new Date()): KeyResolver {
  return async ({ alg }) => (key.algorithms.includes(alg) && (key.expiresAt === null || key.expiresAt > now()) ? [key] : []);
}
