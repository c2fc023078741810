import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/client.ts';
import { BUSY_TIMEOUT_MS } from './sqlite-file.ts';

export type Db = PrismaClient;
/** The client inside an interactive transaction. */
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export function createPrisma(databaseFile: string): PrismaClient {
  const adapter = new PrismaBetterSqlite3({ url: `file:${databaseFile}`, timeout: BUSY_TIMEOUT_MS });
  return new PrismaClient({ adapter });
}

export { Prisma } from './generated/client.ts';
