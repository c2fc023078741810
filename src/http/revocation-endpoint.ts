// POST /revoke (RFC 7009): an application revokes a token it was issued; anything else changes nothing.
import type { Middleware } from 'koa';
import { OAuthError } from '../errors.ts';
import { revokeTokenId } from '../store/revocations.ts';
import { inspectFor, tokenManagementRequest, type TokenManagementDeps } from './token-management.ts';
import { tokenManagementTrace } from './token-management-audit.ts';

export function revocationEndpoint(deps: TokenManagementDeps): Middleware {
  return async (ctx) => {
    const seen = tokenManagementTrace(ctx);
    const { caller, token } = await tokenManagementRequest(ctx, deps, seen);
    const inspection = await inspectFor(deps, caller, token);
    // RFC 7009 §2.2: 200 whether or not there was anything to revoke; the audit event says which
    ctx.status = 200;
    ctx.body = '';
    if (!inspection.active) {
      seen.result = { record: true, outcome: 'failure', reason: inspection.reason === 'revoked' ? 'already revoked' : inspection.reason, details: { revoked: false } };
      return;
    }
    const { jti, client_id: clientId, exp } = inspection.claims;
    if (clientId !== caller.app.clientId) {
      // an audience may introspect a token, never revoke it: only the application it was issued to can
      seen.result = { record: true, outcome: 'failure', reason: 'issued to another application', details: { revoked: false, jti, token_client_id: clientId } };
      return;
    }
    const limit = deps.config.revokedTokensPerApplication;
    if (deps.revocations.revokedTokensOf(clientId) >= limit) {
      // every revocation stays in every process's memory until its token expires: one application cannot grow that without bound;
      // 503 tells the client the token is still valid and to retry later (RFC 7009 §2.2.1)
      throw new OAuthError('temporarily_unavailable', 'too many of this application\'s tokens are revoked already; retry once some have expired', 503, `${limit} unexpired tokens of the application are revoked already`);
    }
    const record = await revokeTokenId(deps.db, { jti, clientId, expiresAt: new Date(exp * 1000) });
    if (record) deps.revocations.recorded(record);
    seen.result = { record: true, outcome: 'success', reason: record ? null : 'already revoked', details: { revoked: record !== null, jti } };
  };
}
