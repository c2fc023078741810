import { invalidGrant, temporarilyUnavailable } from '../errors.ts';
import { metrics } from '../metrics/recorder.ts';
import { policiesOf } from '../policies/bound-policies.ts';
import { decide } from '../policies/evaluate.ts';
import { policyContext, type PolicyRequest } from '../policies/context.ts';
import { mintAccessToken } from '../tokens/access-token.ts';
import type { Application } from '../store/types.ts';
import type { GrantDeps, GrantResult, GrantTrace } from './types.ts';

export interface Issuance {
  app: Application;
  subject: string;
  scopes: string[];
  audience: string[];
  extraClaims?: Record<string, unknown>;
  /** what the application's policies see */
  policy: PolicyRequest;
  trace: GrantTrace;
}

export async function issueAccessToken(deps: GrantDeps, issuance: Issuance): Promise<GrantResult> {
  const policies = policiesOf(await deps.state.policies(), issuance.app.clientId);
  let policyClaims: Record<string, unknown> = {};
  if (policies.length > 0) {
    const decision = decide(policies, issuance.app.policyMode, policyContext(issuance.app, issuance.scopes, issuance.policy));
    if (!decision.allowed) {
      issuance.trace.policy = decision.policy;
      metrics.policyDenied(decision.policy);
      throw invalidGrant(`denied by policy ${decision.policy}`, `policy ${decision.policy}: ${decision.reason}`);
    }
    policyClaims = decision.claims;
  }
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
      extraClaims: { ...issuance.extraClaims, ...policyClaims },
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
