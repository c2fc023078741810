import Koa from 'koa';
import type { Logger } from '../logger.ts';
import { metricsEndpoint } from './metrics-endpoint.ts';
import { notFound } from './not-found.ts';
import { requestLog } from './request-log.ts';

/** The application of the metrics port (METRICS_PORT): GET /metrics and nothing else. */
export function createMetricsApp(log: Logger): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(requestLog(log));
  const metrics = metricsEndpoint(log);
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (ctx.path === '/metrics' && (ctx.method === 'GET' || ctx.method === 'HEAD')) return metrics(ctx, next);
    return next();
  });
  app.use(notFound);
  return app;
}
