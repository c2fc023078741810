import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type { DatabaseConfig } from '../config.ts';
import { PrismaClient } from './generated/client.ts';
import { BUSY_TIMEOUT_MS } from './sqlite-file.ts';

/**
 * A client of the store. Prisma generates one client per provider; the two are made from the same
 * models (prisma/postgresql/schema.prisma is derived from prisma/schema.prisma), so the SQLite
 * client's type stands for both.
 */
export type Db = PrismaClient;
/** The client inside an interactive transaction. */
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export type Provider = DatabaseConfig['kind'];


interface ClientFacts {
  provider: Provider;
  busyTimeoutMs: number;
}

const facts = new WeakMap<Db, ClientFacts>();

/**
 * A client of the configured store. A SQLite file must exist (openSqliteFile creates it at the
 * first start); a PostgreSQL database is reached through a pool of at most `poolSize` connections,
 * each failing after POSTGRES_CONNECT_TIMEOUT_MS when the server does not answer. A string is a
 * SQLite file's path. PostgreSQL's driver and client are loaded by the first PostgreSQL client:
 * a node on SQLite never loads them.
 */
export async function createPrisma(database: DatabaseConfig | string, busyTimeoutMs = BUSY_TIMEOUT_MS, poolSize?: number): Promise<PrismaClient> {
  const target: DatabaseConfig = typeof database === 'string' ? { kind: 'sqlite', file: database } : database;
  let client: PrismaClient;
  if (target.kind === 'sqlite') {
    client = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${target.file}`, timeout: busyTimeoutMs, fileMustExist: true }) });
  } else {
    const { createPostgresPrisma } = await import('./postgres-prisma.ts');
    client = createPostgresPrisma(target.url, poolSize ?? target.poolSize);
  }
  facts.set(client, { provider: target.kind, busyTimeoutMs });
  return client;
}

/** The provider behind a client, or behind the client of a transaction (which forwards Prisma's own field). */
export function providerOf(db: Db | Tx): Provider {
  return facts.get(db as Db)?.provider ?? ((db as { _activeProvider?: string })._activeProvider === 'postgresql' ? 'postgresql' : 'sqlite');
}

/** How long a client waits for a lock another process holds (what callers may spend retrying, in all). */
export function busyTimeoutOf(db: Db): number {
  return facts.get(db)?.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
}

export { Prisma } from './generated/client.ts';
