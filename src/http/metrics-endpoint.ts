import type { Middleware } from 'koa';
import type { Logger } from '../logger.ts';
import { enableMetrics, METRICS_CONTENT_TYPE } from '../metrics/process-metrics.ts';
import { sendJson } from './json-body.ts';

/** GET /metrics: the whole process tree's metrics in the Prometheus text format. */
export function metricsEndpoint(log: Logger): Middleware {
  const { scrape } = enableMetrics();
  return async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      ctx.body = await scrape();
      ctx.type = METRICS_CONTENT_TYPE;
    } catch (error) {
      log.warn({ err: error }, 'gathering the metrics failed');
      ctx.status = 503;
      ctx.set('Retry-After', '1');
      sendJson(ctx, { error: 'temporarily_unavailable', error_description: 'the metrics could not be gathered; retry shortly' });
    }
  };
}
