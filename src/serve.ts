import { createServer, type Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { buildDeps, type Deps, type DepsOptions } from './deps.ts';
import { guardConnections } from './http/connection-guard.ts';
import { jwksFastPath } from './http/jwks-fast-path.ts';
import { createMetricsApp } from './http/metrics-app.ts';
import { shareRsaSigningThreads } from './keys/sign.ts';
import type { Logger } from './logger.ts';

export interface Serving {
  server: Server;
  deps: Deps;
  /** the port actually bound (useful with PORT=0) */
  port: number;
  close(): Promise<void>;
}

/**
 * Time limits per connection: a client gets 10 s to send its request headers from the moment it
 * connects (so an idle connection is closed after at most 11 s), 15 s for the whole request; an
 * idle keep-alive connection stays open 65 s, longer than common load balancers' idle timeouts.
 */
const CONNECTION_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 15_000, keepAliveTimeout: 65_000, connectionsCheckingInterval: 1000 };

/** One HTTP server over one set of deps: what each worker runs. */
export async function serve(config: Config, log: Logger, kek: Buffer, options: DepsOptions = {}): Promise<Serving> {
  shareRsaSigningThreads(availableParallelism(), config.workers);
  const deps = await buildDeps(config, log, kek, options);
  try {
    await deps.keystore().active?.warmUp();
  } catch (error) {
    // threads are started again by the first token request; a failed head start is no reason not to serve
    log.warn({ err: error }, 'the signing threads could not be started ahead of the first request');
  }
  const app = createApp(deps);
  const { keepAliveTimeout, ...serverOptions } = CONNECTION_TIMEOUTS;
  const koa = app.callback();
  const jwks = jwksFastPath(config, deps.keystore, log);
  const server = createServer(serverOptions);
  server.keepAliveTimeout = keepAliveTimeout;
  // the guard hears of a request before it is answered, even one answered at once
  guardConnections(server, config.maxConnections, log);
  server.on('request', (req, res) => {
    if (!jwks(req, res)) void koa(req, res);
  });
  const port = await listen(server, config.port, config.host, log);
  return {
    server,
    deps,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await deps.close();
    },
  };
}

/** The metrics port (METRICS_PORT, on HOST): served by the primary, for the whole process tree. */
export async function serveMetrics(config: Config, log: Logger, metricsPort: number): Promise<Server> {
  const { keepAliveTimeout, ...serverOptions } = CONNECTION_TIMEOUTS;
  const server = createServer(serverOptions, createMetricsApp(log).callback());
  server.keepAliveTimeout = keepAliveTimeout;
  await listen(server, metricsPort, config.host, log);
  return server;
}

const SERVER_ERROR_LOG_EVERY_MS = 10_000;

/**
 * Listens, and resolves with the port actually bound (useful with port 0). Once listening, an error
 * of the server (a connection that could not be accepted, e.g. out of file descriptors) is logged,
 * at most once every 10 s with the count since, and serving goes on: unheard, it would end the process.
 */
async function listen(server: Server, port: number, host: string, log: Logger): Promise<number> {
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    const listening = () => {
      server.off('error', failed);
      resolve();
    };
    const failed = (error: Error) => {
      server.off('listening', listening);
      reject(error);
    };
    server.once('listening', listening);
    server.once('error', failed);
  });
  let unlogged = 0;
  let lastLogged = -Infinity;
  server.on('error', (error) => {
    unlogged++;
    if (Date.now() - lastLogged < SERVER_ERROR_LOG_EVERY_MS) return;
    log.error({ err: error, errors: unlogged }, 'the server could not accept a connection');
    unlogged = 0;
    lastLogged = Date.now();
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}
