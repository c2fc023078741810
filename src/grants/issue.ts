import { temporarilyUnavailable } from '../errors.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import type { Application } from '../store/types.ts';
import type { GrantDeps, GrantResult } from './types.ts';

export interface Issuance {
  app: Application;
  subject: string;
  scopes: string[];
  audience: string[];
  extraClaims?: Record<string, unknown>;
}

export async function issueAccessToken(deps: GrantDeps, issuance: Issuance): Promise<GrantResult> {
  const key = deps.keystore().active;
  if (!key) throw temporarilyUnavailable('no signing key is loaded yet');
  const minted = await mintAccessToken(
    {
      issuer: deps.config.issuer,
      subject: issuance.subject,
      audience: issuance.audience,
      clientId: issuance.app.clientId,
      scopes: issuance.scopes,
      ttlSeconds: issuance.app.accessTokenTtl ?? deps.config.accessTokenTtl,
      extraClaims: issuance.extraClaims,
    },
    key,
  );
  const response = { access_token: minted.token, token_type: 'Bearer' as const, expires_in: minted.expiresIn };
  return {
    response: issuance.scopes.length > 0 ? { ...response, scope: issuance.scopes.join(' ') } : response,
    subject: issuance.subject,
    jti: minted.jti,
  };
}
