// POST /token (RFC 6749 §3.2): parse → authenticate the caller → pick the grant → issue → respond.
import type { Context, Middleware } from 'koa';
import { authenticateCaller, presentsCredentials, type CallerDeps } from '../caller/index.ts';
import { presentedName } from '../caller/credential-name.ts';
import { trustIndex } from '../trust/anchors.ts';
import { presentedCredentials, type PresentedCredentials } from '../caller/presented.ts';
import { decodeBasic } from './basic-credentials.ts';
import { tokenRequestTrace } from './token-audit.ts';
import { invalidRequest, OAuthError, unsupportedGrantType } from '../errors.ts';
import { GRANTS, requireGrantAllowed, type Grant, type GrantDeps } from '../grants/index.ts';
import { isFormContentType, parseForm, rejectCredentialsInQuery, type FormParams } from './form.ts';

export type TokenEndpointDeps = CallerDeps & GrantDeps;

export const MAX_FORM_BYTES = 32 * 1024;

/** Token responses are never cached (RFC 6749 §5.1), errors included. */
export const noStore: Middleware = async (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  await next();
};

export const requireForm: Middleware = async (ctx, next) => {
  if (!isFormContentType(ctx.get('content-type') || undefined)) {
    throw invalidRequest('the request must be application/x-www-form-urlencoded');
  }
  const encoding = ctx.get('content-encoding').trim().toLowerCase();
  if (encoding && encoding !== 'identity') throw invalidRequest('the request body must not be compressed', 415);
  await next();
};

export function tokenEndpoint(deps: TokenEndpointDeps): Middleware {
  return async (ctx) => {
    const seen = tokenRequestTrace(ctx);
    rejectCredentialsInQuery(ctx.querystring);
    const params = parseForm(rawBody(ctx));
    const grant = pickGrant(params);
    seen.grantType = grant.grantType;
    const authorization = ctx.get('authorization');
    const presented = (seen.presented = presentedCredentials(authorization ? decodeBasic(authorization) : undefined, params));
    const caller = await presentedName(presented, async (iss) => trustIndex(await deps.state.trust(), deps.jwksKeys).forIssuer(iss).length > 0);
    // a secret this process verified recently for this very caller costs nothing to check again: never
    // throttled (asked only when the throttle would refuse, so the hot path hashes the secret once)
    const throttled = deps.throttle.refusal(ctx.ip, caller);
    if (throttled && !presentsKnownSecret(deps, presented, caller)) throw throttled;
    try {
      if (grant.clientAuthentication === 'required' || presentsCredentials(seen.presented)) {
        seen.caller = await authenticateCaller(deps, seen.presented, grant.grantType, seen.grant);
        requireGrantAllowed(seen.caller.app, grant);
      }
      seen.result = await grant.handle({ params, caller: seen.caller, clientId: seen.presented.clientId, ip: ctx.ip, trace: seen.grant }, deps);
    } catch (error) {
      if (error instanceof OAuthError && (error.error === 'invalid_client' || error.error === 'invalid_grant')) deps.throttle.recordFailure(ctx.ip, caller);
      throw error;
    }
    ctx.body = seen.result.response;
  };
}

function presentsKnownSecret(deps: TokenEndpointDeps, presented: PresentedCredentials, name: string): boolean {
  const secret = presented.secret?.value ?? presented.servicePassword?.password;
  return secret !== undefined && deps.verifier.knows(secret, name);
}

function rawBody(ctx: Context): string {
  const raw = (ctx.request as { rawBody?: unknown }).rawBody;
  return typeof raw === 'string' ? raw : '';
}

function pickGrant(params: FormParams): Grant {
  const grantType = params.get('grant_type');
  if (!grantType) throw invalidRequest('grant_type is required');
  const grant = GRANTS.get(grantType);
  if (!grant) throw unsupportedGrantType('this grant type is not supported');
  return grant;
}
