// POST /token (RFC 6749 §3.2): parse → authenticate the caller → pick the grant → issue → respond.
import type { Context, Middleware } from 'koa';
import { authenticateCaller, type Caller, type CallerDeps } from '../caller/index.ts';
import { presentedCredentials, type PresentedCredentials } from '../caller/presented.ts';
import { invalidRequest, OAuthError, unauthorizedClient, unsupportedGrantType } from '../errors.ts';
import { GRANTS, type Grant, type GrantDeps, type GrantResult } from '../grants/index.ts';
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
  await next();
};

export function tokenEndpoint(deps: TokenEndpointDeps): Middleware {
  return async (ctx) => {
    let presented: PresentedCredentials | undefined;
    let grantType: string | undefined;
    let caller: Caller | undefined;
    try {
      rejectCredentialsInQuery(ctx.querystring);
      const params = parseForm(rawBody(ctx));
      const grant = pickGrant(params);
      grantType = grant.grantType;
      presented = presentedCredentials(ctx.get('authorization') || undefined, params);
      caller = await authenticateCaller(deps, presented, grant.grantType);
      ensureGrantAllowed(caller, grant);
      const result = await grant.handle({ params, caller, ip: ctx.ip }, deps);
      audit(deps, ctx, { grantType, caller, result });
      ctx.body = result.response;
    } catch (error) {
      audit(deps, ctx, { grantType, caller, presented, error });
      throw error;
    }
  };
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

function ensureGrantAllowed(caller: Caller, grant: Grant): void {
  if (!caller.app.grantTypes.includes(grant.requires)) {
    throw unauthorizedClient(`this client may not use the ${grant.requires} grant`);
  }
}

interface Outcome {
  grantType: string | undefined;
  caller: Caller | undefined;
  presented?: PresentedCredentials;
  result?: GrantResult;
  error?: unknown;
}

function audit(deps: TokenEndpointDeps, ctx: Context, outcome: Outcome): void {
  const { caller, presented, result, error } = outcome;
  const details: Record<string, unknown> = { grant_type: outcome.grantType ?? null };
  if (caller?.kind === 'service-account') details.app_password_id = caller.appPasswordId;
  if (caller?.kind === 'application') details.method = caller.method;
  if (result) details.jti = result.jti;
  if (error instanceof OAuthError) details.error = error.error;
  deps.writer.audit({
    at: new Date(),
    action: result ? 'token.issued' : 'token.denied',
    outcome: result ? 'success' : 'failure',
    clientId: caller?.app.clientId ?? presented?.clientId ?? null,
    subject: result?.subject ?? (caller?.kind === 'service-account' ? caller.account.username : presented?.servicePassword?.username) ?? null,
    reason: error instanceof OAuthError ? error.reason : error ? 'internal error' : null,
    ip: ctx.ip,
    details,
  });
}
