import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { VerificationCertificate } from '../store/types.ts';
import { parseVerificationPem } from './certificates.ts';
import type { KeyResolver, VerificationKey } from './verify-input-jwt.ts';

export interface CertificateKey extends VerificationKey {
  algorithms: string[];
  expiresAt: Date | null;
}

/** The public keys of certificates, imported once (callers cache the result with the certificates). */
export function certificateKeys(certificates: VerificationCertificate[]): CertificateKey[] {
  return certificates.map((cert) => ({
    key: createPublicKey({ key: cert.jwk as JsonWebKey, format: 'jwk' }),
    source: `certificate:${cert.name}`,
    algorithms: parseVerificationPem(cert.pem).algorithms,
    expiresAt: cert.expiresAt,
  }));
}

/**
 * Resolves an input JWT's key among the certificates bound to one application: every unexpired
 * certificate whose key can verify the JWT's algorithm (a caller's `kid` names nothing we stored).
 */
export function certificateResolver(keys: CertificateKey[], now = () => new Date()): KeyResolver {
  return async ({ alg }) => keys.filter((k) => k.algorithms.includes(alg) && (k.expiresAt === null || k.expiresAt > now()));
}
