// POST /token (RFC 6749 §3.2): parse → authenticate the caller → pick the grant → issue → respond.
import type { Context, Middleware } from 'koa';
import { authenticateCaller, presentsCredentials, type Caller, type CallerDeps } from '../caller/index.ts';
import { presentedCredentials, type PresentedCredentials } from '../caller/presented.ts';
import { invalidRequest, OAuthError, unsupportedGrantType } from '../errors.ts';
import { GRANTS, requireGrantAllowed, type Grant, type GrantDeps, type GrantResult, type GrantTrace } from '../grants/index.ts';
import type { BackgroundWriter } from '../store/background-writer.ts';
import type { VerifiedAssertion } from '../trust/assertion.ts';
import { isIdentifier } from '../identifiers.ts';
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

/** What the handler learnt about a token request, for its audit event. */
interface TokenRequestTrace {
  grantType?: string;
  presented?: PresentedCredentials;
  caller?: Caller;
  grant: GrantTrace;
  result?: GrantResult;
}

function trace(ctx: Context): TokenRequestTrace {
  return ((ctx.state as { tokenRequest?: TokenRequestTrace }).tokenRequest ??= { grant: {} });
}

/** Every token request becomes an audit event, whatever step refused it. Runs first. */
export function auditTokenRequests(writer: BackgroundWriter): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      audit(writer, ctx, trace(ctx));
    } catch (error) {
      audit(writer, ctx, trace(ctx), error);
      throw error;
    }
  };
}

export function tokenEndpoint(deps: TokenEndpointDeps): Middleware {
  return async (ctx) => {
    const seen = trace(ctx);
    rejectCredentialsInQuery(ctx.querystring);
    const params = parseForm(rawBody(ctx));
    const grant = pickGrant(params);
    seen.grantType = grant.grantType;
    seen.presented = presentedCredentials(ctx.get('authorization') || undefined, params);
    deps.throttle.check(ctx.ip);
    try {
      if (grant.clientAuthentication === 'required' || presentsCredentials(seen.presented)) {
        seen.caller = await authenticateCaller(deps, seen.presented, grant.grantType);
        requireGrantAllowed(seen.caller.app, grant);
      }
      seen.result = await grant.handle({ params, caller: seen.caller, clientId: seen.presented.clientId, ip: ctx.ip, trace: seen.grant }, deps);
    } catch (error) {
      if (error instanceof OAuthError && (error.error === 'invalid_client' || error.error === 'invalid_grant')) deps.throttle.recordFailure(ctx.ip);
      throw error;
    }
    ctx.body = seen.result.response;
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

function audit(writer: BackgroundWriter, ctx: Context, seen: TokenRequestTrace, error?: unknown): void {
  const { caller, presented, result } = seen;
  const details: Record<string, unknown> = { grant_type: seen.grantType ?? null };
  if (caller?.kind === 'service-account') details.app_password_id = caller.appPasswordId;
  if (caller?.kind === 'application') details.method = caller.method;
  if (caller?.kind === 'assertion') Object.assign(details, { method: caller.assertion.mode, ...describeAssertion(caller.assertion) });
  if (seen.grant.assertion) details.grant_assertion = describeAssertion(seen.grant.assertion);
  if (seen.grant.policy) details.policy = seen.grant.policy;
  if (result) details.jti = result.jti;
  if (error instanceof OAuthError) details.error = error.error;
  const failure = error !== undefined || !result;
  writer.audit({
    at: new Date(),
    action: failure ? 'token.denied' : 'token.issued',
    outcome: failure ? 'failure' : 'success',
    clientId: caller?.app.clientId ?? seen.grant.app?.clientId ?? asIdentifier(presented?.clientId),
    subject: result?.subject ?? (caller?.kind === 'service-account' ? caller.account.username : asIdentifier(presented?.servicePassword?.username)),
    reason: error instanceof OAuthError ? error.reason : error ? describeFailure(error) : null,
    ip: ctx.ip,
    details,
  });
}

/** Which source vouched for a JWT, and the JWT's own iss, sub and jti (never the JWT itself). */
function describeAssertion(assertion: VerifiedAssertion): Record<string, unknown> {
  return { source: assertion.source, assertion_iss: assertion.issuer, assertion_sub: assertion.inputSubject ?? null, assertion_jti: assertion.jti ?? null };
}

/** Caller-supplied names reach the audit log only when they could name someone. */
function asIdentifier(value: string | undefined): string | null {
  if (value === undefined) return null;
  return isIdentifier(value) ? value : '(malformed)';
}

/** Body-parser refusals carry a status; anything else is ours. */
function describeFailure(error: unknown): string {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status < 500 ? `request refused (${status})` : 'internal error';
}
