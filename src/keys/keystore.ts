import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SIGNING_ALGS, type SigningAlg } from '../config.ts';
import type { SigningKeyRecord } from '../store/types.ts';
import { decryptPrivateKey } from './encryption.ts';
import { JwsSigner } from './sign.ts';

/** A published key, as verifying one of the issuer's own tokens needs it. */
export interface PublishedKey {
  alg: string;
  key: KeyObject;
}

/** The key new tokens are signed with. */
export type ActiveSigningKey = JwsSigner;

/** The issuer's keys as the hot path needs them: one decrypted signing key, a pre-serialised JWKS. */
export class Keystore {
  private constructor(
    readonly active: ActiveSigningKey | null,
    /** the JWKS document, serialised once */
    readonly jwksBody: string,
    readonly jwksEtag: string,
    private readonly published: ReadonlyMap<string, PublishedKey>,
  ) {}

  /** A key this issuer still publishes, by kid: only those vouch for its own tokens. */
  publishedKey(kid: string): PublishedKey | undefined {
    return this.published.get(kid);
  }

  static async load(records: SigningKeyRecord[], kek: Buffer, now = new Date()): Promise<Keystore> {
    // a removed or revoked key is never published, whatever its dates say
    const published = records.filter((r) => r.state === 'next' || r.state === 'active' || (r.state === 'retired' && r.publishUntil !== null && r.publishUntil > now));
    const jwksBody = JSON.stringify({ keys: published.map((r) => publicJwk(r)) });
    const jwksEtag = `"${createHash('sha256').update(jwksBody).digest('base64url').slice(0, 27)}"`;
    const record = records.filter((r) => r.state === 'active').sort((a, b) => (b.activatedAt?.getTime() ?? 0) - (a.activatedAt?.getTime() ?? 0))[0];
    const active = record ? new JwsSigner({ kid: record.kid, alg: signingAlg(record.alg), key: createPrivateKey(decryptPrivateKey(kek, record.kid, record.privateKey)) }, record.activatedAt) : null;
    const keys = new Map(published.map((r) => [r.kid, { alg: r.alg, key: createPublicKey({ key: publicJwk(r) as JsonWebKey, format: 'jwk' }) }]));
    return new Keystore(active, jwksBody, jwksEtag, keys);
  }
}

function signingAlg(alg: string): SigningAlg {
  if (!(SIGNING_ALGS as readonly string[]).includes(alg)) throw new Error(`a signing key has the unsupported algorithm ${alg}`);
  return alg as SigningAlg;
}

function publicJwk(record: SigningKeyRecord): Record<string, unknown> {
  // Only public members ever leave: rebuild from an allowlist rather than trusting the stored JSON.
  const allowed = ['kty', 'crv', 'n', 'e', 'x', 'y'];
  const jwk: Record<string, unknown> = {};
  for (const name of allowed) if (record.publicJwk[name] !== undefined) jwk[name] = record.publicJwk[name];
  return { ...jwk, kid: record.kid, use: 'sig', alg: record.alg };
}
