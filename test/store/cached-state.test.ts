import test from 'ava';
import { rmSync } from 'node:fs';
import { buildDeps, type Deps } from '../../src/deps.ts';
import { createLogger } from '../../src/logger.ts';
import { prepareDatabase, runAdmin, tempDir, testConfig } from '../helpers/instance.ts';

const created = (clientId: string) => ['app', 'create', clientId, '--secret', '--scopes', 'read', '--audiences', 'https://api.example'];

/**
 * A worker's deps over a database where `clientId` exists, with an hour between polls (nothing is
 * read unless the test asks), and an admin runner on the same database.
 */
async function withWorker(clientId: string, run: (deps: Deps, admin: (argv: string[]) => Promise<number>) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const config = testConfig(dir);
  const kek = await prepareDatabase(config);
  const admin = async (argv: string[]) => (await runAdmin(config, argv)).code;
  if ((await admin(created(clientId))) !== 0) throw new Error(`app create ${clientId}`);
  const deps = await buildDeps(config, createLogger('silent'), kek, { pollMs: 3_600_000 });
  try {
    await run(deps, admin);
  } finally {
    await deps.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a new state version is served only once the revocations recorded with it are in force: a deleted application\'s tokens never become its namesake\'s', async (t) => {
  await withWorker('phoenix', async (deps, admin) => {
    const oldToken = { jti: 'old-phoenix-token', clientId: 'phoenix', issuedAt: Math.floor(Date.now() / 1000) };
    t.is(await admin(['app', 'delete', 'phoenix']), 0);
    t.is(await admin(created('phoenix')), 0);
    t.false(deps.revocations.isRevoked(oldToken), 'the deletion is not known before a poll');
    t.true(await deps.state.poll());
    t.true(deps.revocations.isRevoked(oldToken), 'the deletion\'s revocation is in force as the new state is');
    t.truthy(await deps.state.application('phoenix'));
  });
});

test('an application read from the database on a cache miss is served only once the revocations recorded before it are in force', async (t) => {
  await withWorker('lazarus', async (deps, admin) => {
    const oldToken = { jti: 'old-lazarus-token', clientId: 'lazarus', issuedAt: Math.floor(Date.now() / 1000) };
    t.is(await admin(['app', 'delete', 'lazarus']), 0);
    t.is(await admin(created('lazarus')), 0);
    // this worker has not polled since: the new lazarus is a cache miss, read from the database
    t.false(deps.revocations.isRevoked(oldToken));
    t.truthy(await deps.state.application('lazarus'));
    t.true(deps.revocations.isRevoked(oldToken), 'the deletion\'s revocation is in force as the new application is');
  });
});

test('a process shows a new state version only once its caches no longer hold the state before it', async (t) => {
  await withWorker('atlas', async (deps, admin) => {
    const cached = await deps.state.applications();
    const before = deps.state.loadedVersion;
    t.is(await admin(created('atlas-2')), 0);
    // the catch-up that runs before the caches are dropped, held open
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let catchingUp = false;
    deps.state.catchUpBeforeReading(async () => {
      catchingUp = true;
      await gate;
    });
    const polled = deps.state.poll();
    while (!catchingUp) await new Promise((resolve) => setImmediate(resolve));
    t.is(deps.state.loadedVersion, before, 'not while the old state is still served from the caches');
    t.is(await deps.state.applications(), cached);
    open();
    t.true(await polled);
    t.true(deps.state.loadedVersion > before);
    t.true((await deps.state.applications()).some((app) => app.clientId === 'atlas-2'));
  });
});
