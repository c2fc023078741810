// Which parts of a serving process the metrics' gauges read.
import type { Deps } from './deps.ts';
import { enableMetrics } from './metrics/process-metrics.ts';
import { gaugeServingState } from './metrics/serving-gauges.ts';

export function measureServing(deps: Pick<Deps, 'hasher' | 'keystore' | 'state' | 'jwksKeys' | 'log'>): void {
  gaugeServingState(enableMetrics().registry, {
    argon2Queue: () => deps.hasher.queueDepth(),
    activeSigningKey: () => deps.keystore().active,
    stateVersion: () => deps.state.loadedVersion,
    async jwksKeysFetchedAt() {
      try {
        const { sources } = await deps.state.trust();
        return sources.flatMap((source) => {
          const fetchedAt = deps.jwksKeys.keysFetchedAt(source);
          return fetchedAt === undefined ? [] : [{ source: source.name, fetchedAt }];
        });
      } catch (error) {
        // a scrape still answers while the database does not (readiness reports that)
        deps.log.warn({ err: error }, 'reading the JWKS sources for the metrics failed');
        return [];
      }
    },
  });
}
