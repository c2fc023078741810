// POST /token (RFC 6749 §3.2): parse → pick the grant → authenticate the caller → issue → respond.
import type { Middleware } from 'koa';
import { authenticateCaller, presentsCredentials, type CallerDeps } from '../caller/index.ts';
import { countingFailures, readClientCredentials, refuseIfThrottled } from './client-credentials.ts';
import { tokenRequestTrace } from './token-audit.ts';
import { invalidRequest, unsupportedGrantType } from '../errors.ts';
import { GRANTS, requireGrantAllowed, type Grant, type GrantDeps } from '../grants/index.ts';
import { isFormContentType, parseForm, rawBody, rejectCredentialsInQuery, type FormParams } from './form.ts';

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
    const client = await readClientCredentials(ctx, deps, params);
    seen.presented = client.presented;
    refuseIfThrottled(deps, ctx.ip, client);
    seen.result = await countingFailures(deps, ctx.ip, client, async () => {
      if (grant.clientAuthentication === 'required' || presentsCredentials(client.presented)) {
        seen.caller = await authenticateCaller(deps, client.presented, grant.grantType, seen.grant);
        requireGrantAllowed(seen.caller.app, grant);
      }
      return grant.handle({ params, caller: seen.caller, clientId: client.presented.clientId, ip: ctx.ip, trace: seen.grant }, deps);
    });
    ctx.body = seen.result.response;
  };
}

function pickGrant(params: FormParams): Grant {
  const grantType = params.get('grant_type');
  if (!grantType) throw invalidRequest('grant_type is required');
  const grant = GRANTS.get(grantType);
  if (!grant) throw unsupportedGrantType('this grant type is not supported');
  return grant;
}
