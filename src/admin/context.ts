import type { SecretHasher } from '../secrets/hasher.ts';
import type { Db } from '../store/prisma.ts';

/** What admin operations need: the database and the hasher for new secrets. */
export interface AdminContext {
  db: Db;
  hasher: SecretHasher;
}
