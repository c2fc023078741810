// POST /introspect (RFC 7662), and its signed form (RFC 9701) for a caller that asks for it.
import type { Context, Middleware } from 'koa';
import type { ApplicationCaller } from '../caller/index.ts';
import { temporarilyUnavailable } from '../errors.ts';
import { inspectFor, tokenManagementRequest, type TokenManagementDeps } from './token-management.ts';
import { tokenManagementTrace } from './token-management-audit.ts';
import { sendJson } from './json-body.ts';

export const INTROSPECTION_JWT_TYPE = 'application/token-introspection+jwt';
const INACTIVE = { active: false } as const;

export function introspectionEndpoint(deps: TokenManagementDeps): Middleware {
  return async (ctx) => {
    const seen = tokenManagementTrace(ctx);
    const { caller, token } = await tokenManagementRequest(ctx, deps, seen);
    const inspection = await inspectFor(deps, caller, token);
    let answer: Record<string, unknown>;
    if (inspection.active) {
      seen.result = { record: false, outcome: 'success', reason: null, details: {} };
      // the token's own claims (scope, client_id, sub, aud, iss, exp, iat, nbf, jti, groups, permissions,
      // src_iss, policy claims), under the two members RFC 7662 defines, which no claim may replace
      const { active: _active, token_type: _type, ...claims } = inspection.claims;
      answer = { active: true, ...claims, token_type: 'Bearer' };
    } else {
      // no hint why for the caller; the audit event keeps it
      seen.result = { record: true, outcome: 'failure', reason: inspection.reason, details: { active: false } };
      answer = INACTIVE;
    }
    if (wantsJwt(ctx)) await respondSigned(ctx, deps, caller, answer);
    else sendJson(ctx, answer);
  };
}

function wantsJwt(ctx: Context): boolean {
  return ctx.get('accept') !== '' && ctx.accepts('application/json', INTROSPECTION_JWT_TYPE) === INTROSPECTION_JWT_TYPE;
}

/**
 * RFC 9701 §5: the answer as the `token_introspection` claim of a JWT signed with the active key,
 * addressed to the caller. Its `typ` keeps it from ever passing for an access token.
 */
async function respondSigned(ctx: Context, deps: TokenManagementDeps, caller: ApplicationCaller, answer: Record<string, unknown>): Promise<void> {
  const key = deps.keystore().active;
  if (!key) throw temporarilyUnavailable('no signing key is loaded yet');
  ctx.type = INTROSPECTION_JWT_TYPE;
  ctx.body = await key.sign('token-introspection+jwt', {
    token_introspection: answer,
    iss: deps.config.issuer,
    aud: caller.app.clientId,
    iat: Math.floor(Date.now() / 1000),
  });
}
