import test from 'ava';
import { FailureThrottle } from '../../src/caller/throttle.ts';
import { OAuthError } from '../../src/errors.ts';
import { basic, createApp, startInstance } from '../helpers/instance.ts';

test('an address is throttled after its failures for the minute, and free again in the next one', (t) => {
  const throttle = new FailureThrottle(3);
  const now = 1_000_000;
  for (let i = 0; i < 3; i++) {
    t.notThrows(() => throttle.check('10.0.0.1', now));
    throttle.recordFailure('10.0.0.1', now + i);
  }
  const error = t.throws(() => throttle.check('10.0.0.1', now + 10_000), { instanceOf: OAuthError }) as OAuthError;
  t.is(error.error, 'slow_down');
  t.is(error.status, 429);
  t.is(error.headers['Retry-After'], '50');
  t.notThrows(() => throttle.check('10.0.0.2', now + 10_000), 'other addresses are not affected');
  t.notThrows(() => throttle.check('10.0.0.1', now + 60_000));
});

test('a limit of 0 turns throttling off', (t) => {
  const throttle = new FailureThrottle(0);
  for (let i = 0; i < 100; i++) throttle.recordFailure('10.0.0.1', 5);
  t.notThrows(() => throttle.check('10.0.0.1', 5));
});

test('past AUTH_FAILURES_PER_MINUTE failed authentications, even valid credentials from that address get 429 slow_down without argon2', async (t) => {
  const instance = await startInstance({ AUTH_FAILURES_PER_MINUTE: '3' });
  try {
    const secret = await createApp(instance, 'victim');
    for (let i = 0; i < 3; i++) {
      t.is((await instance.token({ grant_type: 'client_credentials', client_id: 'victim', client_secret: `guess-${i}` })).status, 401);
    }
    const before = instance.serving.deps.hasher.verifications;
    const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('victim', secret) });
    t.is(res.status, 429);
    t.truthy(res.headers.get('retry-after'));
    t.is(((await res.json()) as { error: string }).error, 'slow_down');
    t.is(instance.serving.deps.hasher.verifications, before);
  } finally {
    await instance.close();
  }
});
