// What /introspect and /revoke share: the calling application, authenticated by the same step as
// /token, and which of the issuer's tokens that application may learn about or revoke.
import type { Context } from 'koa';
import { authenticateApplication, type ApplicationCaller, type CallerDeps } from '../caller/index.ts';
import { invalidRequest } from '../errors.ts';
import type { Keystore } from '../keys/keystore.ts';
import type { Application } from '../store/types.ts';
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
  if (createdAfter(issuedTo.createdAt, claims.iat)) return 'issued to an earlier application with the same client_id';
  return serviceAccountStanding(deps, issuedTo, claims);
}

/**
 * A service account's token (its `sub` is neither the application nor a federated subject, which
 * carries `src_iss`, a claim no policy can set) is inactive once the account is deleted, disabled or
 * no longer bound to the application.
 */
async function serviceAccountStanding(deps: TokenManagementDeps, app: Application, claims: AccessTokenClaims): Promise<string | null> {
  if (claims.sub === claims.client_id || claims.src_iss !== undefined) return null;
  const account = await deps.state.serviceAccount(claims.sub);
  if (!account || createdAfter(account.createdAt, claims.iat)) return 'the service account it was issued to no longer exists';
  if (!account.enabled) return 'the service account it was issued to is disabled';
  if (!account.applicationIds.includes(app.id)) return 'the service account it was issued to is no longer bound to the application';
  return null;
}

/** iat has whole seconds: created in a later second than the token was issued. */
function createdAfter(createdAt: Date, iat: number): boolean {
  return Math.floor(createdAt.getTime() / 1000) > iat;
}
