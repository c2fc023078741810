import test from 'ava';
import { randomUUID } from 'node:crypto';
import { generateSecret } from '../../src/secrets/format.ts';
import { basic, createApp, startInstance, untilPropagated } from '../helpers/instance.ts';

test('an unrelated admin change costs a warm client no argon2 verification', async (t) => {
  const instance = await startInstance();
  try {
    const secret = await createApp(instance, 'warm');
    const request = () => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('warm', secret) });
    t.is((await request()).status, 200);
    const { hasher, state } = instance.serving.deps;
    const before = hasher.verifications;
    t.is(await state.application('unrelated'), null);
    t.is((await instance.admin('app', 'create', 'unrelated', '--audiences', 'https://x.example')).code, 0);
    // the change has reached this process once it sees the new application
    t.truthy(await untilPropagated(() => state.application('unrelated'), (app) => app !== null));
    t.is((await request()).status, 200);
    t.is(hasher.verifications, before);
  } finally {
    await instance.close();
  }
});

test('100 concurrent first requests of a client with a queue of 2 all get a token, for one argon2 run', async (t) => {
  const instance = await startInstance({ ARGON2_MAX_CONCURRENT: '1', ARGON2_MAX_QUEUE: '2' });
  try {
    const secret = await createApp(instance, 'burst');
    const before = instance.serving.deps.hasher.verifications;
    const statuses = await Promise.all(Array.from({ length: 100 }, () => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('burst', secret) }).then((r) => r.status)));
    t.deepEqual([...new Set(statuses)], [200]);
    t.is(instance.serving.deps.hasher.verifications - before, 1);
  } finally {
    await instance.close();
  }
});

test('a client whose secret verified recently is not queued behind a flood of guesses for unknown clients', async (t) => {
  // slow argon2, one at a time, a queue of 2, and a verified secret trusted for 1 s only
  const instance = await startInstance({ ARGON2_MAX_CONCURRENT: '1', ARGON2_MAX_QUEUE: '2', ARGON2_MEMORY_KIB: '65536', ARGON2_ITERATIONS: '3', VERIFIED_SECRET_CACHE_SECONDS: '1' });
  try {
    const secret = await createApp(instance, 'known');
    const request = () => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('known', secret) });
    t.is((await request()).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    let flooding = true;
    const seen: number[] = [];
    const flood = Array.from({ length: 8 }, async () => {
      while (flooding) {
        const guess = generateSecret('client-secret').secret;
        seen.push((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic(`nobody-${randomUUID()}`, guess) })).status);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await request()).status);
      await new Promise((r) => setTimeout(r, 1100));
    }
    flooding = false;
    await Promise.all(flood);
    t.true(seen.includes(503), 'the flood did fill the queue');
    t.deepEqual(statuses, [200, 200, 200], 'the known client was served every time its cache entry had lapsed');
  } finally {
    await instance.close();
  }
});
