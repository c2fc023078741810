// RFC 9068: JWT profile for OAuth 2.0 access tokens.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ActiveSigningKey } from '../keys/keystore.ts';

export const PROTECTED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope']);

export interface AccessTokenContent {
  issuer: string;
  subject: string;
  audience: string[];
  clientId: string;
  scopes: string[];
  ttlSeconds: number;
  /** groups, permissions, src_iss, policy claims; protected claims are never taken from here */
  extraClaims?: Record<string, unknown>;
}

export interface MintedToken {
  token: string;
  jti: string;
  expiresIn: number;
  expiresAt: number;
}

export async function mintAccessToken(content: AccessTokenContent, key: ActiveSigningKey, nowMs = Date.now()): Promise<MintedToken> {
  const iat = Math.floor(nowMs / 1000);
  const jti = randomBytes(16).toString('base64url');
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(content.extraClaims ?? {})) if (!PROTECTED_CLAIMS.has(name)) claims[name] = value;
  claims.client_id = content.clientId;
  if (content.scopes.length > 0) claims.scope = content.scopes.join(' ');
  const exp = iat + content.ttlSeconds;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .setIssuer(content.issuer)
    .setSubject(content.subject)
    .setAudience(content.audience.length === 1 ? content.audience[0]! : content.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key.key);
  return { token, jti, expiresIn: content.ttlSeconds, expiresAt: exp };
}
