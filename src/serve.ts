import type { Server } from 'node:http';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { buildDeps, type Deps } from './deps.ts';
import type { Logger } from './logger.ts';

export interface Serving {
  server: Server;
  deps: Deps;
  /** the port actually bound (useful with PORT=0) */
  port: number;
  close(): Promise<void>;
}

/** One HTTP server over one set of deps: what each worker runs. */
export async function serve(config: Config, log: Logger, kek: Buffer, options: { pollMs?: number } = {}): Promise<Serving> {
  const deps = await buildDeps(config, log, kek, options);
  const app = createApp(deps);
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
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
