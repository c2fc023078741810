import test from 'ava';
import { FailureThrottle } from '../../src/caller/throttle.ts';
import { OAuthError } from '../../src/errors.ts';
import { basic, createApp, startInstance } from '../helpers/instance.ts';

const LIMITS = { perCaller: 3, perAddress: 10 };

test('a caller is throttled after its failures for the minute from one address, and free again in the next one', (t) => {
  const throttle = new FailureThrottle(LIMITS);
  const now = 1_000_000;
  for (let i = 0; i < 3; i++) {
    t.notThrows(() => throttle.check('10.0.0.1', 'reports', now));
    throttle.recordFailure('10.0.0.1', 'reports', now + i);
  }
  const error = t.throws(() => throttle.check('10.0.0.1', 'reports', now + 10_000), { instanceOf: OAuthError }) as OAuthError;
  t.is(error.error, 'slow_down');
  t.is(error.status, 429);
  t.is(error.headers['Retry-After'], '50');
  t.notThrows(() => throttle.check('10.0.0.2', 'reports', now + 10_000), 'the same caller from another address is not affected');
  t.notThrows(() => throttle.check('10.0.0.1', 'billing', now + 10_000), 'another caller behind the same address is not affected');
  t.notThrows(() => throttle.check('10.0.0.1', 'reports', now + 60_000));
});

test('failures naming many callers exhaust the address budget, which then holds for every caller from it', (t) => {
  const throttle = new FailureThrottle(LIMITS);
  const now = 2_000_000;
  for (let i = 0; i < 10; i++) {
    t.notThrows(() => throttle.check('10.0.0.9', `guess-${i}`, now));
    throttle.recordFailure('10.0.0.9', `guess-${i}`, now);
  }
  const error = t.throws(() => throttle.check('10.0.0.9', 'fresh-name', now + 1), { instanceOf: OAuthError }) as OAuthError;
  t.is(error.error, 'slow_down');
  t.notThrows(() => throttle.check('10.0.0.10', 'fresh-name', now + 1));
});

test('a limit of 0 turns throttling off', (t) => {
  const throttle = new FailureThrottle({ perCaller: 0, perAddress: 1 });
  for (let i = 0; i < 100; i++) throttle.recordFailure('10.0.0.1', 'x', 5);
  t.notThrows(() => throttle.check('10.0.0.1', 'x', 5));
});

test('past AUTH_FAILURES_PER_MINUTE failures, a caller from that address gets 429 slow_down without argon2', async (t) => {
  const instance = await startInstance({ AUTH_FAILURES_PER_MINUTE: '3' });
  try {
    const secret = await createApp(instance, 'victim');
    for (let i = 0; i < 3; i++) {
      t.is((await instance.token({ grant_type: 'client_credentials', client_id: 'victim', client_secret: `guess-${i}` })).status, 401);
    }
    const before = instance.serving.deps.hasher.verifications;
    const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('victim', secret) });
    t.is(res.status, 429, 'a secret never verified by this process pays like a guess');
    t.truthy(res.headers.get('retry-after'));
    t.is(((await res.json()) as { error: string }).error, 'slow_down');
    t.is(instance.serving.deps.hasher.verifications, before);
  } finally {
    await instance.close();
  }
});

test('a misconfigured client failing twice a second does not lock out a neighbour behind the same address', async (t) => {
  const instance = await startInstance({ AUTH_FAILURES_PER_MINUTE: '5' });
  try {
    const secret = await createApp(instance, 'neighbour');
    const wrongSecret = await createApp(instance, 'misconfigured');
    const statuses: number[] = [];
    // the first request verifies the neighbour's secret; later ones are cache hits
    for (let i = 0; i < 120; i++) {
      const bad = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('misconfigured', `${wrongSecret.slice(0, -2)}xx`) });
      t.true([401, 429].includes(bad.status));
      if (i % 2 === 0) statuses.push((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('neighbour', secret) })).status);
    }
    t.deepEqual([...new Set(statuses)], [200], 'the neighbour is never throttled');
    const bad = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('misconfigured', `${wrongSecret.slice(0, -2)}xx`) });
    t.is(bad.status, 429, 'the misconfigured client is throttled on its own');
  } finally {
    await instance.close();
  }
});

test('a secret already verified is never throttled, even when its address has used up its failures', async (t) => {
  const instance = await startInstance({ AUTH_FAILURES_PER_MINUTE: '2', AUTH_FAILURES_PER_MINUTE_PER_ADDRESS: '4' });
  try {
    const secret = await createApp(instance, 'cached');
    t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('cached', secret) })).status, 200);
    for (let i = 0; i < 6; i++) await instance.token({ grant_type: 'client_credentials', client_id: `nobody-${i}`, client_secret: 'guess' });
    t.is((await instance.token({ grant_type: 'client_credentials', client_id: 'nobody-x', client_secret: 'guess' })).status, 429, 'the address is throttled');
    const before = instance.serving.deps.hasher.verifications;
    for (let i = 0; i < 5; i++) {
      t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('cached', secret) })).status, 200);
    }
    t.is(instance.serving.deps.hasher.verifications, before, 'and it cost no argon2');
  } finally {
    await instance.close();
  }
});

test('windows that are over are dropped as time passes, not only when the table is full', (t) => {
  const throttle = new FailureThrottle(LIMITS);
  for (let i = 0; i < 1000; i++) throttle.recordFailure(`10.0.${i >> 8}.${i & 255}`, 'client:x', 1_000_000);
  const size = () => (throttle as unknown as { windows: Map<string, unknown> }).windows.size;
  t.is(size(), 2000);
  throttle.recordFailure('10.9.9.9', 'client:x', 1_000_000 + 60_000);
  t.is(size(), 2);
});

test('a valid secret presented for another client_id or username is a stranger: throttled like any guess', async (t) => {
  const instance = await startInstance({ AUTH_FAILURES_PER_MINUTE: '2' });
  try {
    const secret = await createApp(instance, 'attacker');
    const account = await instance.admin('service-account', 'create', 'attacker-job', '--app', 'attacker', '--json');
    const password = account.json<{ app_password: string }>().app_password;
    t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('attacker', secret) })).status, 200);
    t.is((await instance.token({ grant_type: 'client_credentials', client_id: 'attacker', username: 'attacker-job', password })).status, 200);
    const misuse = [
      () => instance.token({ grant_type: 'client_credentials', client_id: 'someone-else', client_secret: secret }),
      () => instance.token({ grant_type: 'client_credentials', client_id: 'attacker', username: 'not-the-job', password }),
      () => instance.token({ grant_type: 'client_credentials', client_id: 'nobody-here', username: 'attacker-job', password }),
    ];
    for (const send of misuse) {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await send()).status);
      t.is(statuses.at(-1), 429, JSON.stringify(statuses));
    }
  } finally {
    await instance.close();
  }
});

test('client_ids that cannot name anyone share one budget: a thousand long garbage names are one caller, not a thousand', async (t) => {
  const instance = await startInstance({ AUTH_FAILURES_PER_MINUTE: '3' });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await instance.token({ grant_type: 'client_credentials', client_id: ` ${i}-${'x'.repeat(20_000)}`, client_secret: 'guess' })).status);
    }
    t.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
  } finally {
    await instance.close();
  }
});
