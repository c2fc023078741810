import type { Middleware } from 'koa';
import getRawBody from 'raw-body';

/**
 * Reads the request body as UTF-8 text, up to `limit` bytes, for parseForm. A body over the limit
 * is a 413 and a body shorter or longer than its Content-Length a 400 (raw-body's errors, which
 * the error middleware turns into invalid_request). Compression and the content type were refused
 * before this runs.
 */
export function formBody(limit: number): Middleware {
  return async (ctx, next) => {
    (ctx.request as { rawBody?: string }).rawBody = await getRawBody(ctx.req, { length: ctx.get('content-length') || undefined, limit, encoding: 'utf8' });
    await next();
  };
}
