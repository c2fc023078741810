import { AuditVolumeGuard } from './audit/volume-guard.ts';
import { FailureThrottle } from './caller/throttle.ts';
import type { Config } from './config.ts';
import type { Keystore } from './keys/keystore.ts';
import { LiveKeystore } from './keys/live-keystore.ts';
import type { Logger } from './logger.ts';
import { Argon2Pool } from './secrets/argon2-engine.ts';
import { SecretHasher } from './secrets/hasher.ts';
import { VerifiedSecretCache } from './secrets/verified-cache.ts';
import { SecretVerifier } from './secrets/verifier.ts';
import { AuditSink } from './store/audit-sink.ts';
import type { PostgresAuditSink } from './store/postgres-audit-sink.ts';
import { BUSY_TIMEOUT_MS } from './store/sqlite-file.ts';
import { BackgroundWriter, type WriterOptions } from './store/background-writer.ts';
import { CachedState } from './store/cached-state.ts';
import { DatabaseWatch } from './store/database-watch.ts';
import { fetchOptions } from './trust/fetch-source-keys.ts';
import { JwksKeyCache } from './trust/jwks-key-cache.ts';
import { createPrisma, type Db } from './store/prisma.ts';
import { measureServing } from './serving-metrics.ts';
import { RevocationList } from './tokens/revocation-list.ts';
import { joinRevocationRelay } from './tokens/revocation-relay.ts';

/** The long-lived parts of a serving process, built once. */
export interface Deps {
  config: Config;
  log: Logger;
  db: Db;
  database: DatabaseWatch;
  state: CachedState;
  hasher: SecretHasher;
  verifier: SecretVerifier;
  writer: BackgroundWriter;
  /** the writer's own connection: on a thread of its own for SQLite */
  auditSink: AuditSink | PostgresAuditSink;
  auditGuard: AuditVolumeGuard;
  throttle: FailureThrottle;
  jwksKeys: JwksKeyCache;
  keystore: () => Keystore;
  keys: LiveKeystore;
  revocations: RevocationList;
  close(): Promise<void>;
}

/** Timings tests shorten; production uses the defaults. */
export interface DepsOptions {
  pollMs?: number;
  writer?: Partial<WriterOptions>;
}

export async function buildDeps(config: Config, log: Logger, kek: Buffer, options: DepsOptions = {}): Promise<Deps> {
  const db = await createPrisma(config.database);
  const database = new DatabaseWatch(db, config.database.kind === 'sqlite' ? config.databaseFile : null, log);
  const state = new CachedState(db, log, options.pollMs);
  const limits = { maxRunning: config.argon2MaxConcurrent, maxWaiting: config.argon2MaxQueue };
  const hasher = new SecretHasher(config.argon2, limits, new Argon2Pool(config.argon2MaxConcurrent));
  const verifier = new SecretVerifier(hasher, new VerifiedSecretCache(config.verifiedSecretCacheSeconds * 1000));
  const auditSink =
    config.database.kind === 'sqlite'
      ? new AuditSink({ file: config.databaseFile, busyTimeoutMs: BUSY_TIMEOUT_MS })
      : new (await import('./store/postgres-audit-sink.ts')).PostgresAuditSink(config.database.url);
  const writer = new BackgroundWriter(auditSink, log, options.writer, (error) => database.reportError(error));
  const auditGuard = new AuditVolumeGuard(writer, { deniedPerSecond: config.auditDeniedPerSecond, maxAddresses: 100 });

  const revocations = new RevocationList(db, log, options.pollMs);
  joinRevocationRelay(revocations);
  state.catchUpBeforeReading(() => revocations.catchUp());
  await state.start();
  const keys = await LiveKeystore.open(db, kek, state, log);
  await revocations.start();
  database.start();
  writer.start();
  auditGuard.start();

  const deps: Deps = {
    config,
    log,
    db,
    database,
    state,
    hasher,
    verifier,
    writer,
    auditSink,
    auditGuard,
    throttle: new FailureThrottle({ perCaller: config.authFailuresPerMinute, perAddress: config.authFailuresPerMinutePerAddress }),
    jwksKeys: new JwksKeyCache({ db, log, fetch: fetchOptions(config), cooldownMs: config.jwksRefreshCooldownMs }),
    keystore: () => keys.get(),
    keys,
    revocations,
    async close() {
      state.stop();
      keys.stop();
      revocations.stop();
      database.stop();
      auditGuard.close();
      await writer.close();
      await hasher.close();
      await db.$disconnect();
    },
  };
  if (config.metrics) measureServing(deps);
  return deps;
}
