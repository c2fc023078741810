import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/client.ts';
import { BUSY_TIMEOUT_MS } from './sqlite-file.ts';

export type Db = PrismaClient;
/** The client inside an interactive transaction. */
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

/** A client of an existing database file: it never creates one (openSqliteFile does, at the first start). */
export function createPrisma(databaseFile: string, busyTimeoutMs = BUSY_TIMEOUT_MS): PrismaClient {
  const adapter = new PrismaBetterSqlite3({ url: `file:${databaseFile}`, timeout: busyTimeoutMs, fileMustExist: true });
  const client = new PrismaClient({ adapter });
  busyTimeouts.set(client, busyTimeoutMs);
  return client;
}

const busyTimeouts = new WeakMap<Db, number>();

/** How long a client waits for a lock another process holds (what callers may spend retrying, in all). */
export function busyTimeoutOf(db: Db): number {
  return busyTimeouts.get(db) ?? BUSY_TIMEOUT_MS;
}

export { Prisma } from './generated/client.ts';
