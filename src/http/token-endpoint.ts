// POST /token (RFC 6749 §3.2): parse → pick the grant → authenticate the caller → issue → respond.
import type { Middleware } from 'koa';
import { authenticateCaller, presentsCredentials, type CallerDeps } from '../caller/index.ts';
import { countingFailures, readClientCredentials, refuseIfThrottled } from './client-credentials.ts';
import { tokenRequestTrace } from './token-audit.ts';
import { invalidRequest, unsupportedGrantType } from '../errors.ts';
import { GRANTS, requireGrantAllowed, type Grant, type GrantDeps } from '../grants/index.ts';
import { isFormContentType, parseForm, rawBody, rejectCredentialsInQuery, type FormParams } from './form.ts';
import { sendJson } from './json-body.ts';

export type TokenEndpointDeps = CallerDeps & GrantDeps;

export const MAX_FORM_BYTES = 32 * 1024;

// The middleware below reach the request and response directly (ctx.request, ctx.response) rather
// than through ctx's delegating accessors, and pass next()'s promise on rather than awaiting it:
// they run for every token, and each saves the event loop a little.

/** Token responses are never cached (RFC 6749 §5.1), errors included. */
export const noStore: Middleware = (ctx, next) => {
  ctx.response.set('Cache-Control', 'no-store');
  ctx.response.set('Pragma', 'no-cache');
  return next();
};

export const requireForm: Middleware = (ctx, next) => {
  const { headers } = ctx.req;
  if (!isFormContentType(headers['content-type'])) {
    throw invalidRequest('the request must be application/x-www-form-urlencoded');
  }
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') throw invalidRequest('the request body must not be compressed', 415);
  return next();
};

export function tokenEndpoint(deps: TokenEndpointDeps): Middleware {
  return async (ctx) => {
    const seen = tokenRequestTrace(ctx);
    const { request } = ctx;
    const ip = request.ip;
    rejectCredentialsInQuery(request.querystring);
    const params = parseForm(rawBody(ctx));
    const grant = pickGrant(params);
    seen.grantType = grant.grantType;
    const client = await readClientCredentials(ctx, deps, params);
    seen.presented = client.presented;
    refuseIfThrottled(deps, ip, client);
    seen.result = await countingFailures(deps, ip, client, async () => {
      if (grant.clientAuthentication === 'required' || presentsCredentials(client.presented)) {
        seen.caller = await authenticateCaller(deps, client.presented, grant.grantType, seen.grant);
        requireGrantAllowed(seen.caller.app, grant);
      }
      return grant.handle({ params, caller: seen.caller, clientId: client.presented.clientId, ip, trace: seen.grant }, deps);
    });
    sendJson(ctx.response, seen.result.response);
  };
}

function pickGrant(params: FormParams): Grant {
  const grantType = params.get('grant_type');
  if (!grantType) throw invalidRequest('grant_type is required');
  const grant = GRANTS.get(grantType);
  if (!grant) throw unsupportedGrantType('this grant type is not supported');
  return grant;
}
