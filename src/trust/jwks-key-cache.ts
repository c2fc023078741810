// The keys of JWKS sources, per process. Known keys are served from memory (seeded from the keys
// stored with the source, so a restart needs no fetch); an unknown kid refreshes a source at most
// once per cooldown with a single fetch in flight; a failed fetch keeps the last good keys.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Logger } from '../logger.ts';
import { metrics } from '../metrics/recorder.ts';
import { recordFetch } from '../store/jwks-sources.ts';
import type { Db } from '../store/prisma.ts';
import type { JwksSource, PublicJwk } from '../store/types.ts';
import { keyAlgorithms } from './certificates.ts';
import { fetchSourceKeys, SourceFetchError, type FetchedSourceKeys } from './fetch-source-keys.ts';
import type { SafeFetchOptions } from './safe-fetch.ts';
import type { KeyResolver, VerificationKey } from './verify-input-jwt.ts';

interface ImportedKey {
  kid: string | undefined;
  algorithms: string[];
  key: KeyObject;
}

interface Entry {
  /** the source's location when the entry was made; a changed source starts afresh */
  location: string;
  keys: ImportedKey[];
  fetchedAt: number;
  freshUntil: number;
  lastAttemptAt: number;
  inflight: Promise<void> | undefined;
}

export interface JwksKeyCacheOptions {
  db: Db;
  log: Logger;
  fetch: SafeFetchOptions;
  cooldownMs: number;
  now?: () => number;
  fetchKeys?: typeof fetchSourceKeys;
}

export class JwksKeyCache {
  private readonly entries = new Map<number, Entry>();
  private readonly now: () => number;
  private readonly fetchKeys: typeof fetchSourceKeys;

  constructor(private readonly options: JwksKeyCacheOptions) {
    this.now = options.now ?? Date.now;
    this.fetchKeys = options.fetchKeys ?? fetchSourceKeys;
  }

  resolver(source: JwksSource): KeyResolver {
    return async ({ kid, alg }) => {
      const entry = this.entry(source);
      let candidates = candidatesFor(entry.keys, kid);
      if (source.kind !== 'document' && source.url) {
        if (candidates.length === 0) {
          await this.refresh(source, entry);
          candidates = candidatesFor(entry.keys, kid);
        } else if (this.now() >= entry.freshUntil) {
          void this.refresh(source, entry);
        }
      }
      return candidates.filter((k) => k.algorithms.includes(alg)).map((k): VerificationKey => ({ key: k.key, source: `jwks:${source.name}` }));
    };
  }

  /** When the keys this process holds for the source, or would load for it, were fetched; undefined while it has none. */
  keysFetchedAt(source: JwksSource): number | undefined {
    const entry = this.entries.get(source.id);
    const fetchedAt = Math.max(entry?.location === locationOf(source) ? entry.fetchedAt : 0, source.fetchedAt?.getTime() ?? 0);
    return fetchedAt > 0 ? fetchedAt : undefined;
  }

  private entry(source: JwksSource): Entry {
    const location = locationOf(source);
    const stored = source.fetchedAt?.getTime() ?? 0;
    const existing = this.entries.get(source.id);
    if (existing && existing.location === location && existing.fetchedAt >= stored) return existing;
    const entry: Entry = {
      location,
      keys: importKeys(source.keys),
      fetchedAt: stored,
      freshUntil: source.freshUntil?.getTime() ?? 0,
      lastAttemptAt: existing?.location === location ? existing.lastAttemptAt : 0,
      inflight: existing?.location === location ? existing.inflight : undefined,
    };
    this.entries.set(source.id, entry);
    return entry;
  }

  /** Single flight, at most once per cooldown; never throws. */
  private refresh(source: JwksSource, entry: Entry): Promise<void> {
    if (entry.inflight) return entry.inflight;
    if (this.now() - entry.lastAttemptAt < this.options.cooldownMs) return Promise.resolve();
    entry.lastAttemptAt = this.now();
    entry.inflight = this.fetchInto(source, entry).finally(() => {
      entry.inflight = undefined;
    });
    return entry.inflight;
  }

  private async fetchInto(source: JwksSource, entry: Entry): Promise<void> {
    const { db, log } = this.options;
    let fetched: FetchedSourceKeys;
    try {
      fetched = await this.fetchKeys({ kind: source.kind as 'url' | 'discovery', url: source.url!, issuer: source.issuer }, this.options.fetch);
    } catch (error) {
      metrics.jwksFetched(source.name, false);
      const message = error instanceof SourceFetchError ? error.message : 'unexpected error';
      if (!(error instanceof SourceFetchError)) log.error({ err: error, source: source.name }, 'fetching a JWKS source failed');
      else log.warn({ source: source.name, reason: message }, 'fetching a JWKS source failed; keeping its last good keys');
      await recordFetch(db, source.id, { ok: false, error: message, at: new Date(this.now()) }).catch((e: unknown) => log.error({ err: e }, 'recording a JWKS fetch failure failed'));
      return;
    }
    metrics.jwksFetched(source.name, true);
    const fetchedAt = this.now();
    entry.keys = importKeys(fetched.keys);
    entry.fetchedAt = fetchedAt;
    entry.freshUntil = fetchedAt + fetched.lifetimeSeconds * 1000;
    log.info({ source: source.name, keys: entry.keys.length }, 'fetched the keys of a JWKS source');
    await recordFetch(db, source.id, {
      ok: true,
      keys: fetched.keys,
      jwksUri: fetched.jwksUri,
      fetchedAt: new Date(fetchedAt),
      freshUntil: new Date(entry.freshUntil),
    }).catch((e: unknown) => log.error({ err: e }, 'storing fetched JWKS keys failed'));
  }
}

function locationOf(source: JwksSource): string {
  return `${source.kind}:${source.url ?? ''}`;
}

/** Without a kid a JWT is tried against this many keys at most: signature checks cost CPU. */
const MAX_KEYS_WITHOUT_KID = 4;

/** The keys named by the kid; with no kid (or none named by it), the keys that carry no kid. */
function candidatesFor(keys: ImportedKey[], kid: string | undefined): ImportedKey[] {
  const named = kid === undefined ? [] : keys.filter((k) => k.kid === kid);
  if (named.length > 0) return named;
  return keys.filter((k) => k.kid === undefined || kid === undefined).slice(0, MAX_KEYS_WITHOUT_KID);
}

/** Imports what can be imported; a key tokenmint cannot use is left out rather than failing the set. */
export function importKeys(jwks: PublicJwk[]): ImportedKey[] {
  const imported: ImportedKey[] = [];
  for (const jwk of jwks) {
    try {
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      const algorithms = keyAlgorithms(key);
      const stated = jwk.alg;
      imported.push({ kid: jwk.kid, algorithms: stated ? algorithms.filter((a) => a === stated || (stated === 'EdDSA' && a === 'Ed25519')) : algorithms, key });
    } catch {
      // not a key we verify with (parseJwks already refused private and symmetric material)
    }
  }
  return imported;
}
