import type { Config } from '../config.ts';
import type { SecretHasher } from '../secrets/hasher.ts';
import type { Db } from '../store/prisma.ts';

/** What admin operations need: the database, the hasher for new secrets, and the configuration. */
export interface AdminContext {
  db: Db;
  hasher: SecretHasher;
  config: Config;
}
