// What the rest of tokenmint reports as it works: one call per event, each a no-op until metrics
// are switched on in the process (METRICS), so that switching them off removes their cost.
import { LabelledChildren } from './labelled-children.ts';
import type { Series } from './series.ts';

export interface Recorder {
  /** once per token request, at its end: `outcome` is `issued` or the OAuth error code */
  tokenRequest(grantType: string, authMethod: string, outcome: string, seconds: number): void;
  argon2Verified(matched: boolean): void;
  argon2Refused(): void;
  verifiedSecretCache(hit: boolean): void;
  throttleRefused(): void;
  jwksFetched(source: string, ok: boolean): void;
  policyEvaluated(policy: string): void;
  policyDenied(policy: string): void;
  auditEventQueued(): void;
  auditEventsWritten(count: number): void;
  auditEventsDropped(count: number): void;
}

const SILENT: Recorder = {
  tokenRequest() {},
  argon2Verified() {},
  argon2Refused() {},
  verifiedSecretCache() {},
  throttleRefused() {},
  jwksFetched() {},
  policyEvaluated() {},
  policyDenied() {},
  auditEventQueued() {},
  auditEventsWritten() {},
  auditEventsDropped() {},
};

/** The process's recorder; its methods change once, when metrics are switched on. */
export const metrics: Recorder = { ...SILENT };

export function recordInto(series: Series): void {
  Object.assign(metrics, liveRecorder(series));
}

function liveRecorder(s: Series): Recorder {
  const tokens = new LabelledChildren(3, ([grantType, method, outcome]) => ({
    count: s.tokenRequests.labels(grantType!, method!, outcome!),
    duration: s.tokenDuration.labels(grantType!, outcome === 'issued' ? 'issued' : 'refused'),
  }));
  const argon2 = { match: s.argon2Verifications.labels('match'), mismatch: s.argon2Verifications.labels('mismatch') };
  const fetches = new LabelledChildren(2, ([source, outcome]) => s.jwksFetches.labels(source!, outcome!));
  const evaluations = new LabelledChildren(1, ([policy]) => s.policyEvaluations.labels(policy!));
  const denials = new LabelledChildren(1, ([policy]) => s.policyDenials.labels(policy!));
  return {
    tokenRequest(grantType, authMethod, outcome, seconds) {
      const child = tokens.get(grantType, authMethod, outcome);
      child.count.inc();
      child.duration.observe(seconds);
    },
    argon2Verified: (matched) => (matched ? argon2.match : argon2.mismatch).inc(),
    argon2Refused: () => s.argon2Refusals.inc(),
    verifiedSecretCache: (hit) => (hit ? s.secretCacheHits : s.secretCacheMisses).inc(),
    throttleRefused: () => s.throttleRefusals.inc(),
    jwksFetched: (source, ok) => fetches.get(source, ok ? 'success' : 'failure').inc(),
    policyEvaluated: (policy) => evaluations.get(policy).inc(),
    policyDenied: (policy) => denials.get(policy).inc(),
    auditEventQueued: () => s.auditQueued.inc(),
    auditEventsWritten: (count) => s.auditWritten.inc(count),
    auditEventsDropped: (count) => s.auditDropped.inc(count),
  };
}
