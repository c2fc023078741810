// One log line per HTTP request, and the request id that ties it to its response and audit event.
import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { nameForRecords, SECRET_SHAPED } from '../identifiers.ts';
import type { Logger } from '../logger.ts';
import { looksLikeSecret } from '../secrets/format.ts';
import type { TokenRequestTrace } from './token-audit.ts';

/** An incoming X-Request-Id is kept only when it is a short token: it is echoed and logged. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;
const MAX_LOGGED_PATH = 200;

export function requestId(ctx: Context): string {
  return (ctx.state as { requestId?: string }).requestId ?? '';
}

/**
 * Runs first, so it sees the final status of every request, refusals included. Logs method, path,
 * status, duration, and for /token the grant type and client_id: never a secret, token or assertion.
 */
export function requestLog(log: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    const id = acceptedRequestId(ctx.req.headers['x-request-id']);
    (ctx.state as { requestId?: string }).requestId = id;
    ctx.response.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      if (log.isLevelEnabled('info')) log.info(lineFor(ctx, id, performance.now() - started), 'request');
    }
  };
}

/** The caller's X-Request-Id when it is safe to echo and log, else a new one. */
export function acceptedRequestId(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) && !looksLikeSecret(incoming) ? incoming : randomUUID();
}

function lineFor(ctx: Context, id: string, ms: number): Record<string, unknown> {
  const line: Record<string, unknown> = { request_id: id, method: ctx.method, path: printablePath(ctx.path), status: ctx.status, duration_ms: Math.round(ms * 10) / 10 };
  const trace = (ctx.state as { tokenRequest?: TokenRequestTrace }).tokenRequest;
  if (trace) {
    line.grant_type = trace.grantType ?? null;
    line.client_id = trace.caller?.app.clientId ?? trace.grant.app?.clientId ?? nameForRecords(trace.presented?.clientId);
  }
  return line;
}

function printablePath(path: string): string {
  if (looksLikeSecret(path) || looksLikeSecret(decoded(path))) return SECRET_SHAPED;
  const clean = path.replace(/[^\x21-\x7e]/g, '?');
  return clean.length > MAX_LOGGED_PATH ? `${clean.slice(0, MAX_LOGGED_PATH)}…` : clean;
}

function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
