import test from 'ava';
import { OAuthError } from '../../src/errors.ts';
import { ConcurrencyLimiter } from '../../src/secrets/limiter.ts';

/** A piece of work that runs until released; records when it started. */
function gate(log: string[], name: string) {
  let release!: (value: string) => void;
  const done = new Promise<string>((resolve) => (release = resolve));
  return {
    work: () => {
      log.push(name);
      return done;
    },
    release: () => release(name),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('work under the limit runs at once', async (t) => {
  const limiter = new ConcurrencyLimiter(2, 0);
  const log: string[] = [];
  const a = gate(log, 'a');
  const b = gate(log, 'b');
  const ra = limiter.run(a.work);
  const rb = limiter.run(b.work);
  await tick();
  t.deepEqual(log, ['a', 'b']);
  a.release();
  b.release();
  t.deepEqual(await Promise.all([ra, rb]), ['a', 'b']);
});

test('a full queue rejects with temporarily_unavailable (503)', async (t) => {
  const limiter = new ConcurrencyLimiter(1, 1);
  const log: string[] = [];
  const a = gate(log, 'a');
  const b = gate(log, 'b');
  const ra = limiter.run(a.work);
  const rb = limiter.run(b.work);
  let ranC = false;
  const error = await t.throwsAsync(
    limiter.run(async () => {
      ranC = true;
      return 'c';
    }),
    { instanceOf: OAuthError },
  );
  t.is(error?.error, 'temporarily_unavailable');
  t.is(error?.status, 503);
  t.false(ranC);
  a.release();
  b.release();
  t.deepEqual(await Promise.all([ra, rb]), ['a', 'b']);
});

test('with no queue allowed, anything beyond the running limit is refused', async (t) => {
  const limiter = new ConcurrencyLimiter(1, 0);
  const a = gate([], 'a');
  const ra = limiter.run(a.work);
  await t.throwsAsync(limiter.run(async () => 'b'), { instanceOf: OAuthError, message: /temporarily_unavailable/ });
  a.release();
  t.is(await ra, 'a');
});

test('queued work runs in arrival order as slots free up, never more than the limit at once', async (t) => {
  const limiter = new ConcurrencyLimiter(2, 10);
  const log: string[] = [];
  const gates = ['a', 'b', 'c', 'd', 'e'].map((name) => gate(log, name));
  const results = gates.map((g) => limiter.run(g.work));
  await tick();
  t.deepEqual(log, ['a', 'b']);
  gates[1]!.release();
  await results[1];
  await tick();
  t.deepEqual(log, ['a', 'b', 'c']);
  gates[0]!.release();
  await results[0];
  await tick();
  t.deepEqual(log, ['a', 'b', 'c', 'd']);
  gates[2]!.release();
  gates[3]!.release();
  await Promise.all([results[2], results[3]]);
  await tick();
  t.deepEqual(log, ['a', 'b', 'c', 'd', 'e']);
  gates[4]!.release();
  t.deepEqual(await Promise.all(results), ['a', 'b', 'c', 'd', 'e']);
});

test('a failing piece of work frees its slot and passes its error through', async (t) => {
  const limiter = new ConcurrencyLimiter(1, 1);
  const log: string[] = [];
  const failing = limiter.run(async () => {
    log.push('fail');
    throw new Error('boom');
  });
  const next = limiter.run(async () => {
    log.push('next');
    return 'ok';
  });
  await t.throwsAsync(failing, { message: 'boom' });
  t.is(await next, 'ok');
  t.deepEqual(log, ['fail', 'next']);
});

test('slots are reusable after a burst drains', async (t) => {
  const limiter = new ConcurrencyLimiter(1, 1);
  for (let round = 0; round < 3; round++) {
    const a = gate([], 'a');
    const ra = limiter.run(a.work);
    const rb = limiter.run(async () => 'b');
    await t.throwsAsync(limiter.run(async () => 'c'), { instanceOf: OAuthError });
    a.release();
    t.deepEqual(await Promise.all([ra, rb]), ['a', 'b']);
  }
});

test('a freed slot goes to priority work before normal work that waited longer', async (t) => {
  const limiter = new ConcurrencyLimiter(1, 10);
  const log: string[] = [];
  const running = gate(log, 'running');
  const first = limiter.run(running.work);
  const normal = ['n1', 'n2'].map((name) => limiter.run(async () => void log.push(name)));
  const priority = limiter.run(async () => void log.push('p'), 'priority');
  await tick();
  running.release();
  await Promise.all([first, ...normal, priority]);
  t.deepEqual(log, ['running', 'p', 'n1', 'n2']);
});

test('a full normal queue does not refuse priority work', async (t) => {
  const limiter = new ConcurrencyLimiter(1, 1);
  const running = gate([], 'running');
  const first = limiter.run(running.work);
  const queued = limiter.run(async () => 'n1');
  await t.throwsAsync(limiter.run(async () => 'n2'), { instanceOf: OAuthError, message: /temporarily_unavailable/ });
  const priority = limiter.run(async () => 'p', 'priority');
  running.release();
  t.deepEqual(await Promise.all([first, priority, queued]), ['running', 'p', 'n1']);
});
