// Gauges of a serving process's state, read when scraped. Only serving processes define them (a
// cluster's primary serves no tokens), and each says how the workers' values combine.
import { Gauge, type Registry } from 'prom-client';

/** Where a serving process's gauges read from (see src/serving-metrics.ts). */
export interface ServingState {
  argon2Queue(): { priority: number; normal: number };
  activeSigningKey(): { kid: string; activatedAt: Date | null } | null;
  stateVersion(): number;
  /** when the keys of each JWKS source that has keys were fetched (ms since the epoch) */
  jwksKeysFetchedAt(): Promise<{ source: string; fetchedAt: number }[]>;
}

let current: ServingState | undefined;
let defined: Registry | undefined;

/** Defines the gauges once per registry; a later call (another server in the same process) only changes what they read. */
export function gaugeServingState(registry: Registry, state: ServingState): void {
  current = state;
  if (defined === registry) return;
  defined = registry;
  const registers = [registry];
  new Gauge({
    name: 'tokenmint_argon2_queue_depth',
    help: 'argon2 computations waiting for a thread, by lane (priority: secrets verified recently; normal: everything else)',
    labelNames: ['lane'],
    registers,
    collect() {
      const queue = current!.argon2Queue();
      this.set({ lane: 'priority' }, queue.priority);
      this.set({ lane: 'normal' }, queue.normal);
    },
  });
  new Gauge({
    name: 'tokenmint_signing_key_age_seconds',
    help: 'How long the active signing key has been signing (the oldest any worker signs with)',
    labelNames: ['kid'],
    aggregator: 'max',
    registers,
    collect() {
      this.reset();
      const key = current!.activeSigningKey();
      if (key?.activatedAt) this.set({ kid: key.kid }, secondsSince(key.activatedAt.getTime()));
    },
  });
  new Gauge({
    name: 'tokenmint_admin_state_version',
    help: 'The admin state version the serving processes have loaded (the lowest of any worker); every admin change moves it',
    aggregator: 'min',
    registers,
    collect() {
      this.set(current!.stateVersion());
    },
  });
  new Gauge({
    name: 'tokenmint_jwks_keys_age_seconds',
    help: 'Age of the keys a JWKS source has in the cache (the oldest of any worker), by source',
    labelNames: ['source'],
    aggregator: 'max',
    registers,
    async collect() {
      const fetched = await current!.jwksKeysFetchedAt();
      this.reset();
      for (const { source, fetchedAt } of fetched) this.set({ source }, secondsSince(fetchedAt));
    },
  });
}

function secondsSince(ms: number): number {
  return Math.max(0, (Date.now() - ms) / 1000);
}
