import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as PostgresPrismaClient } from './generated-postgresql/client.ts';
import type { PrismaClient } from './generated/client.ts';
import { clientConfig, POSTGRES_CONNECT_TIMEOUT_MS, postgresTarget } from './postgres-url.ts';

/** A client of a PostgreSQL database through a pool of at most `poolSize` connections (see createPrisma). */
export function createPostgresPrisma(url: string, poolSize: number | undefined): PrismaClient {
  const target = postgresTarget(url);
  const pool = clientConfig(target, { max: poolSize, connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS, idleTimeoutMillis: 30_000 }, true);
  // an idle connection the server closed (a restart) is dropped from the pool; the next query opens another
  const adapter = new PrismaPg(pool, { schema: target.schema, onPoolError: () => {}, onConnectionError: () => {} });
  return new PostgresPrismaClient({ adapter }) as unknown as PrismaClient;
}
