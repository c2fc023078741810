// RFC 9068: JWT profile for OAuth 2.0 access tokens.
import type { ActiveSigningKey } from '../keys/keystore.ts';
import { newTokenId } from './token-id.ts';

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
  const jti = newTokenId();
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(content.extraClaims ?? {})) if (!PROTECTED_CLAIMS.has(name)) claims[name] = value;
  claims.client_id = content.clientId;
  if (content.scopes.length > 0) claims.scope = content.scopes.join(' ');
  const exp = iat + content.ttlSeconds;
  claims.iss = content.issuer;
  claims.sub = content.subject;
  claims.aud = content.audience.length === 1 ? content.audience[0]! : content.audience;
  claims.iat = iat;
  claims.nbf = iat;
  claims.exp = exp;
  claims.jti = jti;
  const token = await key.sign('at+jwt', claims);
  return { token, jti, expiresIn: content.ttlSeconds, expiresAt: exp };
}
