import type { Middleware } from 'koa';
import { OAuthError, temporarilyUnavailable } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { describeStorageError, isDatabaseError } from '../store/storage-errors.ts';
import { sendJson } from './json-body.ts';

/**
 * OAuthError → its status and JSON body; a database failure → logged, 503 (the caller may retry,
 * nothing it sent was wrong); anything else → logged, and a generic 500.
 */
export function errorMiddleware(log: Logger, issuer: string, onDatabaseError: (error: unknown) => void = () => {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const error = toOAuthError(caught);
      if (error) {
        if (isDatabaseError(caught)) {
          log.error({ err: caught, method: ctx.method, path: ctx.path }, 'request failed: the database could not be used');
          onDatabaseError(caught);
        }
        ctx.status = error.status;
        sendJson(ctx, { error: error.error, error_description: error.description });
        if (error.error === 'invalid_client' && ctx.get('authorization')) {
          ctx.set('WWW-Authenticate', `Basic realm="${issuer.replace(/["\\]/g, '')}"`);
        }
        if (error.status === 503) ctx.set('Retry-After', '1');
        for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
        return;
      }
      log.error({ err: caught, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = 500;
      sendJson(ctx, { error: 'server_error', error_description: 'the server could not handle the request' });
    }
  };
}

/** What goes on the wire for an error: body-parser refusals are the caller's doing, database failures a 503. */
export function toOAuthError(caught: unknown): OAuthError | null {
  if (caught instanceof OAuthError) return caught;
  if (isDatabaseError(caught)) {
    const error = temporarilyUnavailable('the service cannot use its database right now; retry shortly');
    return new OAuthError(error.error, error.description, error.status, describeStorageError(caught));
  }
  const e = caught as { status?: unknown; type?: unknown } | null;
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    const description = e.type === 'entity.too.large' ? 'the request body is too large' : 'the request body could not be read';
    return new OAuthError('invalid_request', description, e.status);
  }
  return null;
}
