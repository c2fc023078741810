import type { Middleware } from 'koa';
import { sendJson } from './json-body.ts';

/** Last in the chain: whatever no route took. */
export const notFound: Middleware = (ctx) => {
  ctx.status = 404;
  sendJson(ctx, { error: 'not_found', error_description: 'no such endpoint' });
};
