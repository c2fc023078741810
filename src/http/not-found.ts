import type { Middleware } from 'koa';

/** Last in the chain: whatever no route took. */
export const notFound: Middleware = (ctx) => {
  ctx.status = 404;
  ctx.body = { error: 'not_found', error_description: 'no such endpoint' };
};
