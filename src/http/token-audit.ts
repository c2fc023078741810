// The audit event of a token request: what the endpoint learnt, shaped so that no secret can land
// in the log, and handed to the volume guard.
import type { Context, Middleware } from 'koa';
import type { Caller } from '../caller/index.ts';
import type { PresentedCredentials } from '../caller/presented.ts';
import type { AuditVolumeGuard } from '../audit/volume-guard.ts';
import { OAuthError } from '../errors.ts';
import { toOAuthError } from './error-middleware.ts';
import { requestId } from './request-log.ts';
import type { GrantResult, GrantTrace } from '../grants/index.ts';
import { nameForRecords, SECRET_SHAPED } from '../identifiers.ts';
import { looksLikeSecret } from '../secrets/format.ts';
import type { AuditEvent } from '../store/types.ts';
import type { VerifiedAssertion } from '../trust/assertion.ts';

/** What the handler learnt about a token request, for its audit event. */
export interface TokenRequestTrace {
  grantType?: string;
  presented?: PresentedCredentials;
  caller?: Caller;
  grant: GrantTrace;
  result?: GrantResult;
}

export function tokenRequestTrace(ctx: Context): TokenRequestTrace {
  return ((ctx.state as { tokenRequest?: TokenRequestTrace }).tokenRequest ??= { grant: {} });
}

/** Every token request becomes an audit event, whatever step refused it. Runs first. */
export function auditTokenRequests(guard: AuditVolumeGuard): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      record(guard, ctx);
    } catch (error) {
      record(guard, ctx, error);
      throw error;
    }
  };
}

function record(guard: AuditVolumeGuard, ctx: Context, error?: unknown): void {
  const refusal = error === undefined ? undefined : (toOAuthError(error) ?? error);
  const event = tokenRequestEvent(tokenRequestTrace(ctx), ctx.request.ip, refusal, requestId(ctx));
  guard.record(recordable(event), refusal instanceof OAuthError && refusal.error === 'slow_down');
}

export function tokenRequestEvent(seen: TokenRequestTrace, ip: string, error?: unknown, requestId?: string): AuditEvent {
  const { caller, presented, result } = seen;
  const details: Record<string, unknown> = { grant_type: seen.grantType ?? null };
  if (requestId) details.request_id = requestId;
  if (caller?.kind === 'service-account') details.app_password_id = caller.appPasswordId;
  if (caller?.kind === 'application') details.method = caller.method;
  if (caller?.kind === 'assertion') Object.assign(details, { method: caller.assertion.mode, ...describeAssertion(caller.assertion) });
  if (seen.grant.assertion) details.grant_assertion = describeAssertion(seen.grant.assertion);
  if (seen.grant.policy) details.policy = seen.grant.policy;
  if (result) details.jti = result.jti;
  if (error instanceof OAuthError) details.error = error.error;
  const failure = error !== undefined || !result;
  return {
    at: new Date(),
    action: failure ? 'token.denied' : 'token.issued',
    outcome: failure ? 'failure' : 'success',
    clientId: caller?.app.clientId ?? seen.grant.app?.clientId ?? nameForRecords(presented?.clientId),
    subject: result?.subject ?? (caller?.kind === 'service-account' ? caller.account.username : nameForRecords(presented?.servicePassword?.username)),
    // anything that is not an OAuthError by now is a fault of ours
    reason: error instanceof OAuthError ? error.reason : error ? 'internal error' : null,
    ip,
    details,
  };
}

/** Which source vouched for a JWT, and the JWT's own iss, sub and jti (never the JWT itself). */
function describeAssertion(assertion: VerifiedAssertion): Record<string, unknown> {
  return { source: assertion.source, assertion_iss: assertion.issuer, assertion_sub: assertion.inputSubject ?? null, assertion_jti: assertion.jti ?? null };
}


/** The longest text an event keeps of any one field: what a caller sent can make a row no bigger. */
const MAX_TEXT = 300;

/**
 * The last line of defence: any text of the event that holds something shaped like one of our
 * secrets (a caller's address from X-Forwarded-For, a reason quoting input, a JWT's claims) is
 * replaced, whatever put it there, and any longer text is cut short.
 */
export function recordable(event: AuditEvent): AuditEvent {
  return {
    ...event,
    clientId: scrub(event.clientId),
    subject: scrub(event.subject),
    reason: scrub(event.reason),
    ip: scrub(event.ip),
    details: event.details ? (scrubValue(event.details) as Record<string, unknown>) : event.details,
  };
}

function scrub<T extends string | null | undefined>(value: T): T | string {
  if (typeof value !== 'string') return value;
  if (looksLikeSecret(value)) return SECRET_SHAPED;
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
}

function scrubValue(value: unknown): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map(scrubValue);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v)]));
  return value;
}
