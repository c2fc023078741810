// The counters and histograms every process defines, prefixed tokenmint_. Across the workers of a
// cluster they are summed. Their label values are fixed sets or admin-defined names (policies,
// JWKS sources), never a client_id, an address or anything else a caller writes.
import type { Registry } from 'prom-client';
import { CellCounter, CellHistogram } from './cells.ts';

/** From a cached token (well under a millisecond) to argon2, a queue or a JWKS fetch (seconds). */
const TOKEN_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function defineSeries(registry: Registry) {
  const counter = (name: string, help: string, labelNames: readonly string[] = []) => new CellCounter(registry, `tokenmint_${name}`, help, labelNames);
  return {
    tokenRequests: counter('token_requests_total', 'Token requests by grant type (other: missing or unsupported), authentication method presented and outcome (issued, or the OAuth error code)', ['grant_type', 'auth_method', 'outcome']),
    tokenDuration: new CellHistogram(
      registry,
      'tokenmint_token_request_duration_seconds',
      'Time from a token request reaching the token endpoint to its answer, by grant type and result (issued or refused)',
      ['grant_type', 'result'],
      TOKEN_SECONDS_BUCKETS,
    ),
    argon2Verifications: counter('argon2_verifications_total', 'argon2id verifications run (shared ones and those against a dummy hash included), by result', ['result']),
    argon2Refusals: counter('argon2_refusals_total', 'argon2 work refused because its queue was full (answered 503 temporarily_unavailable)'),
    secretCacheHits: counter('verified_secret_cache_hits_total', 'Presented secrets accepted from the verified-secret cache, without argon2'),
    secretCacheMisses: counter('verified_secret_cache_misses_total', 'Presented secrets the verified-secret cache did not know, checked with argon2'),
    throttleRefusals: counter('throttle_refusals_total', 'Requests refused with 429 slow_down because their caller or address used up its failed authentications'),
    jwksFetches: counter('jwks_fetches_total', 'Fetches of a JWKS source\'s keys by a serving process, by source and outcome (success or failure)', ['source', 'outcome']),
    policyEvaluations: counter('policy_evaluations_total', 'Policy evaluations on token requests, by policy', ['policy']),
    policyDenials: counter('policy_denials_total', 'Token requests denied by a policy (false or an error), by policy', ['policy']),
    auditQueued: counter('audit_events_queued_total', 'Audit events of token, introspection and revocation requests queued for the background writer'),
    auditWritten: counter('audit_events_written_total', 'Queued audit events written to the database'),
    auditDropped: counter('audit_events_dropped_total', 'Queued audit events dropped because the queue was full while writes failed'),
  };
}

export type Series = ReturnType<typeof defineSeries>;
