// What /introspect and /revoke share: the calling application, authenticated by the same step as
// /token, and which of the issuer's tokens that application may learn about or revoke.
import type { Context } from 'koa';
import { authenticateApplication, type ApplicationCaller, type CallerDeps } from '../caller/index.ts';
import { invalidRequest } from '../errors.ts';
import type { Keystore } from '../keys/keystore.ts';
import { inspectAccessToken, type AccessTokenClaims, type Inspection } from '../tokens/introspection.ts';
import type { RevocationList } from '../tokens/revocation-list.ts';
import { countingFailures, readClientCredentials, refuseIfThrottled } from './client-credentials.ts';
import { parseForm, rawBody, rejectCredentialsInQuery, type FormParams } from './form.ts';
import type { TokenManagementTrace } from './token-management-audit.ts';

export interface TokenManagementDeps extends CallerDeps {
  keystore: () => Keystore;
  revocations: RevocationList;
}

export interface TokenManagementRequest {
  caller: ApplicationCaller;
  params: FormParams;
  /** the `token` parameter (RFC 7662 §2.1, RFC 7009 §2.1); never recorded anywhere */
  token: string;
}

/** Parses the request and authenticates the calling application; throws the OAuth error otherwise. */
export async function tokenManagementRequest(ctx: Context, deps: TokenManagementDeps, seen: TokenManagementTrace): Promise<TokenManagementRequest> {
  rejectCredentialsInQuery(ctx.querystring);
  const params = parseForm(rawBody(ctx));
  const client = await readClientCredentials(ctx, deps, params);
  seen.presented = client.presented;
  refuseIfThrottled(deps, ctx.ip, client);
  seen.caller = await countingFailures(deps, ctx.ip, client, () => authenticateApplication(deps, client.presented, seen.assertion));
  const token = params.get('token');
  if (token === undefined) throw invalidRequest('token is required');
  // token_type_hint (access_token, refresh_token or anything else) is accepted and not needed: there are only access tokens
  return { caller: seen.caller, params, token };
}

/** The token as the calling application may see it: inactive unless it is active and the caller's business. */
export async function inspectFor(deps: TokenManagementDeps, caller: ApplicationCaller, token: string): Promise<Inspection> {
  const inspection = await inspectAccessToken(token, { keystore: deps.keystore(), issuer: deps.config.issuer, revocations: deps.revocations });
  if (!inspection.active) return inspection;
  const refusal = await standing(deps, caller, inspection.claims);
  return refusal ? { active: false, reason: refusal } : inspection;
}

/**
 * Why the caller may not learn about this token (null when it may): it must have been issued to the
 * caller, or name one of the caller's audiences; and the application it was issued to must still be
 * the one it was issued to, enabled.
 */
async function standing(deps: TokenManagementDeps, caller: ApplicationCaller, claims: AccessTokenClaims): Promise<string | null> {
  const issuedToCaller = claims.client_id === caller.app.clientId;
  const audiences = claims.aud === undefined ? [] : [claims.aud].flat();
  if (!issuedToCaller && !audiences.some((aud) => caller.app.audiences.includes(aud))) {
    return 'issued to another application, for no audience of the caller';
  }
  const issuedTo = issuedToCaller ? caller.app : await deps.state.application(claims.client_id);
  if (!issuedTo) return 'the application it was issued to no longer exists';
  if (!issuedTo.enabled) return 'the application it was issued to is disabled';
  // a client_id deleted and created again names a new application: the old one's tokens are not its own
  if (Math.floor(issuedTo.createdAt.getTime() / 1000) > claims.iat) return 'issued to an earlier application with the same client_id';
  return null;
}
