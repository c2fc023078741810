// Whether an access token is one of this issuer's own, still good (RFC 7662 "active"), and why not.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Keystore } from '../keys/keystore.ts';
import type { RevocationList } from './revocation-list.ts';

/** The claims of an active token that introspection relies on; the rest pass through as they are. */
export interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  sub: string;
  jti: string;
  iat: number;
  exp: number;
}

export type Inspection = { active: true; claims: AccessTokenClaims } | { active: false; reason: string };

/** Far above any token this issuer signs; anything longer is not one of them. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

export interface InspectionContext {
  keystore: Keystore;
  issuer: string;
  revocations: RevocationList;
  now?: Date;
}

export async function inspectAccessToken(token: string, { keystore, issuer, revocations, now = new Date() }: InspectionContext): Promise<Inspection> {
  const inactive = (reason: string): Inspection => ({ active: false, reason });
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) return inactive('not a signed JWT');
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return inactive('not a signed JWT');
  }
  // the issuer signs other JWTs too (RFC 9701 introspection responses): only an access token is one
  if (typeof header.typ !== 'string' || !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase())) return inactive('not an access token (typ)');
  const key = typeof header.kid === 'string' ? keystore.publishedKey(header.kid) : undefined;
  if (!key) return inactive('not signed by a key this issuer publishes');
  if (header.alg !== key.alg) return inactive('signed with another algorithm than its key');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key.key, { algorithms: [key.alg], issuer, currentDate: now, requiredClaims: ['exp', 'iat', 'jti', 'sub'] }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return inactive('expired');
    if (error instanceof errors.JWSSignatureVerificationFailed) return inactive('signature does not verify');
    if (error instanceof errors.JWTClaimValidationFailed) return inactive(`claim ${error.claim} is not valid`);
    return inactive('not a valid JWT');
  }
  const { client_id: clientId, jti, sub } = payload;
  if (typeof clientId !== 'string' || typeof jti !== 'string' || typeof sub !== 'string' || typeof payload.iat !== 'number') return inactive('not an access token (claims)');
  if (revocations.isRevoked({ jti, clientId, issuedAt: payload.iat })) return inactive('revoked');
  return { active: true, claims: payload as AccessTokenClaims };
}
