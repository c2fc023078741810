import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import type { SigningAlg } from '../config.ts';
import { encryptPrivateKey } from './encryption.ts';

export interface GeneratedKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: Record<string, unknown>;
  /** PKCS#8 PEM, encrypted under the key-encryption key */
  privateKey: string;
}

const OPTIONS: Record<SigningAlg, Parameters<typeof generateKeyPair>[1]> = {
  RS256: { modulusLength: 2048, extractable: true },
  PS256: { modulusLength: 2048, extractable: true },
  ES256: { extractable: true },
  EdDSA: { crv: 'Ed25519', extractable: true },
};

/** A new signing key pair; kid is the RFC 7638 thumbprint of the public key. */
export async function generateSigningKey(alg: SigningAlg, kek: Buffer): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, OPTIONS[alg]);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const publicJwk = { ...jwk, kid, use: 'sig', alg };
  return { kid, alg, publicJwk, privateKey: encryptPrivateKey(kek, kid, await exportPKCS8(privateKey)) };
}
