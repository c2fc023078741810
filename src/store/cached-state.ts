import type { Logger } from '../logger.ts';
import { FailureLog } from './failure-log.ts';
import { findApplication, listApplications } from './applications.ts';
import type { Db } from './prisma.ts';
import { findAppPassword, findServiceAccount } from './service-accounts.ts';
import { readStateVersion } from './state-version.ts';
import { listJwksSources } from './jwks-sources.ts';
import { listPolicies } from './policies.ts';
import { listCertificates } from './trust.ts';
import type { AppPassword, Application, JwksSource, PolicyRecord, ServiceAccount, VerificationCertificate } from './types.ts';

/** Every verification certificate and JWKS source, with their bindings: few rows, loaded whole. */
export interface TrustMaterial {
  certificates: VerificationCertificate[];
  sources: JwksSource[];
}

/**
 * The admin state the hot path reads, cached per process. A cheap version counter is polled;
 * when an admin change moves it, every cache is dropped and listeners are told, so a change
 * reaches each worker within one poll interval (well inside the 2-second rule).
 */
export class CachedState {
  private version = -1;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: (() => void)[] = [];
  private catchUp: (() => Promise<void>) | undefined;
  private readonly pollFailures: FailureLog;
  private polling: Promise<boolean> | undefined;
  private readonly maps = {
    applications: new Map<string, Promise<Application | null>>(),
    accounts: new Map<string, Promise<ServiceAccount | null>>(),
    passwords: new Map<string, Promise<AppPassword | null>>(),
    /** whole tables, loaded at most once per version */
    wholes: new Map<string, Promise<unknown>>(),
  };

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly pollMs = 500,
    private readonly maxEntries = 10_000,
  ) {
    this.pollFailures = new FailureLog(log, 'reading the state version failed');
  }

  application(clientId: string): Promise<Application | null> {
    return this.memo(this.maps.applications, clientId, () => findApplication(this.db, clientId));
  }

  serviceAccount(username: string): Promise<ServiceAccount | null> {
    return this.memo(this.maps.accounts, username, () => findServiceAccount(this.db, username));
  }

  appPassword(id: string): Promise<AppPassword | null> {
    return this.memo(this.maps.passwords, id, () => findAppPassword(this.db, id));
  }

  /** The same object until an admin change, so derived indexes can be cached with it. */
  trust(): Promise<TrustMaterial> {
    return this.whole('trust', async () => {
      const [certificates, sources] = await Promise.all([listCertificates(this.db), listJwksSources(this.db)]);
      return { certificates, sources };
    });
  }

  applications(): Promise<Application[]> {
    return this.whole('applications', () => listApplications(this.db));
  }

  /** Every policy with its bindings; the same array until an admin change. */
  policies(): Promise<PolicyRecord[]> {
    return this.whole('policies', () => listPolicies(this.db));
  }

  /** The state version the caches hold (-1 before start). */
  get loadedVersion(): number {
    return this.version;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs before the state is read from the database (a cache miss) and before the caches of a new
   * version are dropped: what an admin change recorded beside the state (the revocations of a
   * deleted application's tokens) is then in force before anything of a newer state is served (the
   * application created again under its name). Must not reject.
   */
  catchUpBeforeReading(catchUp: () => Promise<void>): void {
    this.catchUp = catchUp;
  }

  async start(): Promise<void> {
    this.version = await readStateVersion(this.db);
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Checks the version now; true when the caches were dropped. One check at a time: a slow database never piles them up. */
  poll(): Promise<boolean> {
    this.polling ??= this.check().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async check(): Promise<boolean> {
    try {
      const version = await readStateVersion(this.db);
      this.pollFailures.succeeded();
      if (version === this.version) return false;
      await this.catchUp?.();
      // only now: a process that shows this version no longer serves anything cached before it
      this.version = version;
      this.invalidate();
      return true;
    } catch (error) {
      this.pollFailures.failed(error);
      return false;
    }
  }

  invalidate(): void {
    for (const map of Object.values(this.maps)) map.clear();
    for (const listener of this.listeners) listener();
  }

  private whole<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.memo(this.maps.wholes, key, load) as Promise<T>;
  }

  private memo<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit) return hit;
    if (map.size >= this.maxEntries) map.clear();
    const loading = (this.catchUp ? this.catchUp().then(load) : load()).catch((error: unknown) => {
      map.delete(key);
      throw error;
    });
    map.set(key, loading);
    return loading;
  }
}
