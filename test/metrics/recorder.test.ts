import test from 'ava';
import { ExternalIssuer } from '../helpers/external-issuer.ts';
import { basic, createApp, startInstance, untilPropagated, type Instance } from '../helpers/instance.ts';
import { counterValue, scrape } from '../helpers/metrics.ts';

// What each part of a serving process reports, read through /metrics before and after. The counters
// belong to the process, shared by every server this file starts: the tests run one at a time.

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
let instance: Instance;

test.before(async () => {
  instance = await startInstance({ AUTH_FAILURES_PER_MINUTE: '2', JWKS_ALLOW_PRIVATE_NETWORKS: 'true', JWKS_REFRESH_COOLDOWN_SECONDS: '1' });
});
test.after.always(() => instance?.close());

/** The change of each counter across `act`. */
async function across(act: () => Promise<unknown>, server: Instance = instance): Promise<(name: string, labels?: Record<string, string>) => number> {
  const before = await scrape(server.url);
  await act();
  const after = await scrape(server.url);
  return (name, labels = {}) => counterValue(after, `tokenmint_${name}`, labels) - counterValue(before, `tokenmint_${name}`, labels);
}

const statuses = (...sent: Promise<Response>[]) => Promise.all(sent.map(async (r) => (await r).status));
const withSecret = (clientId: string, secret: string, server: Instance = instance) => server.token({ grant_type: 'client_credentials' }, { authorization: basic(clientId, secret) });

test.serial('argon2 verifications by result, and the verified-secret cache: a miss, then hits', async (t) => {
  const secret = await createApp(instance, 'cached');
  let sent: number[] = [];
  const delta = await across(async () => {
    sent = [await withSecret('cached', secret).then((r) => r.status)];
    sent.push(...(await statuses(withSecret('cached', secret), withSecret('cached', secret), withSecret('cached', secret))));
    sent.push(...(await statuses(withSecret('cached', `${secret.slice(0, -4)}AAAA`), withSecret('nobody', secret))));
  });
  t.deepEqual(sent, [200, 200, 200, 200, 401, 401]);
  t.is(delta('verified_secret_cache_misses_total'), 2, 'the first presentation and the wrong secret');
  t.is(delta('verified_secret_cache_hits_total'), 3);
  t.is(delta('argon2_verifications_total', { result: 'match' }), 1);
  t.is(delta('argon2_verifications_total', { result: 'mismatch' }), 2, 'the wrong secret, and the unknown client against a dummy hash');
});

test.serial('throttle refusals: each 429 slow_down is counted', async (t) => {
  const secret = await createApp(instance, 'hammered');
  const wrong = `${secret.slice(0, -4)}AAAA`;
  let sent: number[] = [];
  const delta = await across(async () => {
    for (let i = 0; i < 5; i++) sent.push((await withSecret('hammered', wrong)).status);
  });
  t.deepEqual(sent, [401, 401, 429, 429, 429]);
  t.is(delta('throttle_refusals_total'), 3);
});

test.serial('argon2 refusals: each 503 of a full argon2 queue is counted', async (t) => {
  const busy = await startInstance({ ARGON2_MAX_CONCURRENT: '1', ARGON2_MAX_QUEUE: '0' });
  try {
    const secret = await createApp(busy, 'busy');
    let sent: number[] = [];
    const delta = await across(async () => {
      // different wrong secrets: concurrent checks of one secret would share a single verification
      sent = await statuses(...Array.from({ length: 8 }, (_, i) => withSecret('busy', `${secret.slice(0, -4)}AAA${i}`, busy)));
    }, busy);
    const refused = sent.filter((s) => s === 503).length;
    t.true(refused > 0 && sent.every((s) => s === 503 || s === 401), sent.join());
    t.is(delta('argon2_refusals_total'), refused);
  } finally {
    await busy.close();
  }
});

test.serial('policy evaluations and denials, by policy', async (t) => {
  const secret = await createApp(instance, 'guarded');
  for (const argv of [
    ['policy', 'add', 'no-write', '--app', 'guarded', '--expression', '!("write" in request.context["oauth_scopes"])'],
    ['policy', 'add', 'team-claim', '--app', 'guarded', '--kind', 'claims', '--expression', '{"team": "payments"}'],
  ]) {
    const run = await instance.admin(...argv);
    t.is(run.code, 0, run.stderr);
  }
  await untilPropagated(() => withSecret('guarded', secret).then((r) => r.json() as Promise<{ access_token?: string }>), (body) => Buffer.from(body.access_token?.split('.')[1] ?? '', 'base64url').toString().includes('payments'), 3000);
  let sent: number[] = [];
  const delta = await across(async () => {
    sent = await statuses(
      instance.token({ grant_type: 'client_credentials', scope: 'read' }, { authorization: basic('guarded', secret) }),
      instance.token({ grant_type: 'client_credentials', scope: 'write' }, { authorization: basic('guarded', secret) }),
    );
  });
  t.deepEqual(sent, [200, 400]);
  t.is(delta('policy_evaluations_total', { policy: 'no-write' }), 2);
  t.is(delta('policy_evaluations_total', { policy: 'team-claim' }), 1, 'claims policies run only for a request the allow policies let through');
  t.is(delta('policy_denials_total', { policy: 'no-write' }), 1);
  t.is(delta('policy_denials_total', { policy: 'team-claim' }), 0);
});

test.serial('audit events: every token request queues one, and what is queued is written', async (t) => {
  const secret = await createApp(instance, 'audited');
  const settled = async () => {
    const text = await untilPropagated(() => scrape(instance.url), (s) => counterValue(s, 'tokenmint_audit_events_written_total') === counterValue(s, 'tokenmint_audit_events_queued_total'), 5000);
    return (name: string) => counterValue(text, `tokenmint_audit_events_${name}_total`);
  };
  const before = await settled();
  const sent = await statuses(withSecret('audited', secret), withSecret('audited', secret), withSecret('audited', 'wrong'), instance.token({ grant_type: 'unknown' }));
  const after = await settled();
  t.deepEqual(sent, [200, 200, 401, 400]);
  t.is(after('queued') - before('queued'), 4);
  t.is(after('written') - before('written'), 4);
  t.is(after('dropped') - before('dropped'), 0);
});

test.serial('audit events dropped when the queue overflows are counted', async (t) => {
  const small = await startInstance({}, { deps: { writer: { maxQueued: 3, intervalMs: 600_000 } } });
  try {
    const secret = await createApp(small, 'overflowing');
    const delta = await across(async () => {
      for (let i = 0; i < 5; i++) await withSecret('overflowing', secret, small);
    }, small);
    t.is(delta('audit_events_queued_total'), 5);
    t.is(delta('audit_events_dropped_total'), 2);
    const written = await across(() => small.serving.deps.writer.flush(), small);
    t.is(written('audit_events_written_total'), 3);
  } finally {
    await small.close();
  }
});

test.serial('JWKS fetches of a serving process, by source and outcome', async (t) => {
  const external = await ExternalIssuer.start({ issuer: 'https://cluster.example' });
  try {
    for (const argv of [
      ['app', 'create', 'workloads', '--grants', 'jwt-bearer', '--audiences', 'https://api.example'],
      ['jwks', 'add', 'cluster', '--url', external.jwksUrl, '--issuer', external.issuer, '--app', 'workloads'],
    ]) {
      const run = await instance.admin(...argv);
      t.is(run.code, 0, run.stderr);
    }
    const exchange = async () => (await instance.token({ grant_type: JWT_BEARER, assertion: await external.sign() })).status;
    await untilPropagated(exchange, (s) => s === 200, 3000);
    const fetched = await across(async () => {
      t.is(await exchange(), 200, 'keys stored by jwks add: no fetch');
      await external.rotate();
      t.is(await exchange(), 200, 'an unknown kid: fetched');
    });
    t.is(fetched('jwks_fetches_total', { source: 'cluster', outcome: 'success' }), 1);
    t.is(fetched('jwks_fetches_total', { source: 'cluster', outcome: 'failure' }), 0);
    external.jwksHandler = (_req, res) => void res.writeHead(500).end();
    await external.rotate();
    // past the refresh cooldown of 1 s
    await new Promise((r) => setTimeout(r, 1100));
    const failed = await across(async () => t.is(await exchange(), 400));
    t.is(failed('jwks_fetches_total', { source: 'cluster', outcome: 'failure' }), 1);
    t.is(failed('jwks_fetches_total', { source: 'cluster', outcome: 'success' }), 0);
  } finally {
    await external.close();
  }
});
