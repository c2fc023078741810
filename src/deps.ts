import { FailureThrottle } from './caller/throttle.ts';
import type { Config } from './config.ts';
import { Keystore } from './keys/keystore.ts';
import type { Logger } from './logger.ts';
import { SecretHasher } from './secrets/hasher.ts';
import { VerifiedSecretCache } from './secrets/verified-cache.ts';
import { BackgroundWriter } from './store/background-writer.ts';
import { CachedState } from './store/cached-state.ts';
import { listSigningKeys } from './store/keys.ts';
import { fetchOptions } from './trust/fetch-source-keys.ts';
import { JwksKeyCache } from './trust/jwks-key-cache.ts';
import { createPrisma, type Db } from './store/prisma.ts';

/** The long-lived parts of a serving process, built once. */
export interface Deps {
  config: Config;
  log: Logger;
  db: Db;
  state: CachedState;
  hasher: SecretHasher;
  verified: VerifiedSecretCache;
  writer: BackgroundWriter;
  throttle: FailureThrottle;
  jwksKeys: JwksKeyCache;
  keystore: () => Keystore;
  close(): Promise<void>;
}

export async function buildDeps(config: Config, log: Logger, kek: Buffer, options: { pollMs?: number } = {}): Promise<Deps> {
  const db = createPrisma(config.databaseFile);
  const state = new CachedState(db, log, options.pollMs);
  const hasher = new SecretHasher(config.argon2, { maxRunning: config.argon2MaxConcurrent, maxWaiting: config.argon2MaxQueue });
  const verified = new VerifiedSecretCache(config.verifiedSecretCacheSeconds * 1000);
  const writer = new BackgroundWriter(db, log);

  let keystore = await Keystore.load(await listSigningKeys(db), kek);
  const reloadKeys = async () => {
    try {
      keystore = await Keystore.load(await listSigningKeys(db), kek);
    } catch (error) {
      log.error({ err: error }, 'reloading signing keys failed; keeping the previous set');
    }
  };
  state.onChange(() => {
    verified.clear();
    void reloadKeys();
  });
  await state.start();
  writer.start();

  return {
    config,
    log,
    db,
    state,
    hasher,
    verified,
    writer,
    throttle: new FailureThrottle(config.authFailuresPerMinute),
    jwksKeys: new JwksKeyCache({ db, log, fetch: fetchOptions(config), cooldownMs: config.jwksRefreshCooldownMs }),
    keystore: () => keystore,
    async close() {
      state.stop();
      await writer.close();
      await db.$disconnect();
    },
  };
}
