// The audit events of /introspect and /revoke: one per refused request, per inactive answer and per
// revocation; an active introspection answer is not recorded (it changes nothing, and a resource
// server may ask once per API call).
import type { Context, Middleware } from 'koa';
import type { ApplicationCaller } from '../caller/index.ts';
import type { PresentedCredentials } from '../caller/presented.ts';
import type { AuditVolumeGuard } from '../audit/volume-guard.ts';
import { OAuthError } from '../errors.ts';
import { nameForRecords } from '../identifiers.ts';
import type { Application, AuditEvent } from '../store/types.ts';
import { toOAuthError } from './error-middleware.ts';
import { requestId } from './request-log.ts';
import { recordable } from './token-audit.ts';

/** What /introspect or /revoke learnt, for its audit event. */
export interface TokenManagementTrace {
  presented?: PresentedCredentials;
  caller?: ApplicationCaller;
  /** the application a refused client assertion was verified for */
  assertion: { app?: Application };
  /** what the endpoint decided; `record: false` for an answer that is not recorded */
  result?: { record: boolean; outcome: 'success' | 'failure'; reason: string | null; details: Record<string, unknown> };
}

export function tokenManagementTrace(ctx: Context): TokenManagementTrace {
  return ((ctx.state as { tokenManagement?: TokenManagementTrace }).tokenManagement ??= { assertion: {} });
}

/** Every refused request and every recordable answer of the endpoint becomes an audit event named `action`. */
export function auditTokenManagement(guard: AuditVolumeGuard, action: string): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      record(guard, ctx, action);
    } catch (error) {
      record(guard, ctx, action, error);
      throw error;
    }
  };
}

function record(guard: AuditVolumeGuard, ctx: Context, action: string, error?: unknown): void {
  const seen = tokenManagementTrace(ctx);
  if (error === undefined && seen.result?.record === false) return;
  const refusal = error === undefined ? undefined : (toOAuthError(error) ?? error);
  guard.record(recordable(tokenManagementEvent(action, seen, ctx.ip, refusal, requestId(ctx))), refusal instanceof OAuthError && refusal.error === 'slow_down');
}

export function tokenManagementEvent(action: string, seen: TokenManagementTrace, ip: string, error?: unknown, requestId?: string): AuditEvent {
  const { caller, presented, result } = seen;
  const details: Record<string, unknown> = {};
  if (requestId) details.request_id = requestId;
  if (caller) details.method = caller.kind === 'application' ? caller.method : caller.assertion.mode;
  if (error instanceof OAuthError) details.error = error.error;
  else if (result) Object.assign(details, result.details);
  const failure = error !== undefined || result?.outcome !== 'success';
  return {
    at: new Date(),
    action,
    outcome: failure ? 'failure' : 'success',
    clientId: caller?.app.clientId ?? seen.assertion.app?.clientId ?? nameForRecords(presented?.clientId),
    subject: null,
    // anything that is not an OAuthError by now is a fault of ours
    reason: error instanceof OAuthError ? error.reason : error ? 'internal error' : (result?.reason ?? null),
    ip,
    details,
  };
}
