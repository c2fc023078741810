import Koa from 'koa';
import type { Deps } from './deps.ts';
import { errorMiddleware } from './http/error-middleware.ts';
import { notFound } from './http/not-found.ts';
import { requestLog } from './http/request-log.ts';
import { routes } from './http/routes.ts';

/** The Koa application; no I/O here, everything long-lived comes in through deps. */
export function createApp(deps: Deps): Koa {
  // only the addresses our own proxies appended count: the leftmost X-Forwarded-For entries are the caller's to invent
  const app = new Koa({ proxy: deps.config.trustProxyHops > 0, maxIpsCount: deps.config.trustProxyHops });
  app.silent = true;
  app.use(requestLog(deps.log));
  app.use(errorMiddleware(deps.log, deps.config.issuer, (error) => deps.database.reportError(error)));
  app.use((ctx, next) => {
    ctx.response.set('X-Content-Type-Options', 'nosniff');
    return next();
  });
  app.use(routes(deps).middleware());
  app.use(notFound);
  return app;
}
