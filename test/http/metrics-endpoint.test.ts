import test from 'ava';
import { startInstance } from '../helpers/instance.ts';
import { samples } from '../helpers/metrics.ts';
import { freePort } from '../helpers/process.ts';

const SERIES = [
  'tokenmint_token_requests_total',
  'tokenmint_token_request_duration_seconds',
  'tokenmint_argon2_verifications_total',
  'tokenmint_argon2_queue_depth',
  'tokenmint_argon2_refusals_total',
  'tokenmint_verified_secret_cache_hits_total',
  'tokenmint_verified_secret_cache_misses_total',
  'tokenmint_throttle_refusals_total',
  'tokenmint_jwks_fetches_total',
  'tokenmint_jwks_keys_age_seconds',
  'tokenmint_policy_evaluations_total',
  'tokenmint_policy_denials_total',
  'tokenmint_audit_events_queued_total',
  'tokenmint_audit_events_written_total',
  'tokenmint_audit_events_dropped_total',
  'tokenmint_signing_key_age_seconds',
  'tokenmint_admin_state_version',
  'tokenmint_metrics_workers_unanswered',
];

test('GET /metrics answers the Prometheus text format with every series and the process metrics, labelled with their process', async (t) => {
  const instance = await startInstance();
  try {
    const res = await fetch(`${instance.url}/metrics`);
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    t.is(res.headers.get('cache-control'), 'no-store');
    t.truthy(res.headers.get('x-request-id'));
    const text = await res.text();
    const described = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const name of SERIES) t.true(described.has(name), name);
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds', 'process_cpu_user_seconds_total']) t.true(described.has(name), name);
    const heap = samples(text).find((s) => s.name === 'nodejs_heap_size_used_bytes');
    t.deepEqual(heap?.labels, { process: 'primary' }, 'a lone server is its own primary');
    t.true(samples(text).filter((s) => s.name.startsWith('tokenmint_')).every((s) => !('process' in s.labels)), 'tokenmint series are summed over processes');
  } finally {
    await instance.close();
  }
});

test('with METRICS=false there is no /metrics', async (t) => {
  const instance = await startInstance({ METRICS: 'false' });
  try {
    const res = await fetch(`${instance.url}/metrics`);
    t.is(res.status, 404);
    t.deepEqual(await res.json(), { error: 'not_found', error_description: 'no such endpoint' });
  } finally {
    await instance.close();
  }
});

test('with METRICS_PORT set, /metrics is not served on the main port', async (t) => {
  const instance = await startInstance({ METRICS_PORT: String(await freePort()) });
  try {
    const res = await fetch(`${instance.url}/metrics`);
    t.is(res.status, 404);
    t.is((await fetch(`${instance.url}/healthz`)).status, 200);
  } finally {
    await instance.close();
  }
});
