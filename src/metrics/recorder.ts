// What the rest of tokenmint reports as it works: one call per event, each a no-op until metrics
// are switched on in the process (METRICS), so that switching them off removes their cost.
import type { CellCounter } from './cells.ts';
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
    count: s.tokenRequests.cell(grantType!, method!, outcome!),
    duration: s.tokenDuration.cell(grantType!, outcome === 'issued' ? 'issued' : 'refused'),
  }));
  const one = (counter: CellCounter) => counter.cell();
  const argon2 = { match: s.argon2Verifications.cell('match'), mismatch: s.argon2Verifications.cell('mismatch'), refused: one(s.argon2Refusals) };
  const cache = { hits: one(s.secretCacheHits), misses: one(s.secretCacheMisses) };
  const throttled = one(s.throttleRefusals);
  const audit = { queued: one(s.auditQueued), written: one(s.auditWritten), dropped: one(s.auditDropped) };
  const fetches = new LabelledChildren(2, ([source, outcome]) => s.jwksFetches.cell(source!, outcome!));
  const evaluations = new LabelledChildren(1, ([policy]) => s.policyEvaluations.cell(policy!));
  const denials = new LabelledChildren(1, ([policy]) => s.policyDenials.cell(policy!));
  return {
    tokenRequest(grantType, authMethod, outcome, seconds) {
      const child = tokens.get(grantType, authMethod, outcome);
      child.count.value++;
      s.tokenDuration.observe(child.duration, seconds);
    },
    argon2Verified: (matched) => void (matched ? argon2.match : argon2.mismatch).value++,
    argon2Refused: () => void argon2.refused.value++,
    verifiedSecretCache: (hit) => void (hit ? cache.hits : cache.misses).value++,
    throttleRefused: () => void throttled.value++,
    jwksFetched: (source, ok) => void fetches.get(source, ok ? 'success' : 'failure').value++,
    policyEvaluated: (policy) => void evaluations.get(policy).value++,
    policyDenied: (policy) => void denials.get(policy).value++,
    auditEventQueued: () => void audit.queued.value++,
    auditEventsWritten: (count) => void (audit.written.value += count),
    auditEventsDropped: (count) => void (audit.dropped.value += count),
  };
}
