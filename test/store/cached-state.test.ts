import test from 'ava';
import { rmSync } from 'node:fs';
import { buildDeps } from '../../src/deps.ts';
import { createLogger } from '../../src/logger.ts';
import { prepareDatabase, runAdmin, tempDir, testConfig } from '../helpers/instance.ts';

test('a new state version is served only once the revocations recorded with it are in force: a deleted application\'s tokens never become its namesake\'s', async (t) => {
  const dir = tempDir();
  const config = testConfig(dir);
  const kek = await prepareDatabase(config);
  t.is((await runAdmin(config, ['app', 'create', 'phoenix', '--secret', '--scopes', 'read', '--audiences', 'https://api.example'])).code, 0);
  // an hour between polls: nothing is read unless the test asks
  const deps = await buildDeps(config, createLogger('silent'), kek, { pollMs: 3_600_000 });
  try {
    const oldToken = { jti: 'old-phoenix-token', clientId: 'phoenix', issuedAt: Math.floor(Date.now() / 1000) };
    t.is((await runAdmin(config, ['app', 'delete', 'phoenix'])).code, 0);
    t.is((await runAdmin(config, ['app', 'create', 'phoenix', '--secret', '--scopes', 'read', '--audiences', 'https://api.example'])).code, 0);
    t.false(deps.revocations.isRevoked(oldToken), 'the deletion is not known before a poll');
    t.true(await deps.state.poll());
    t.true(deps.revocations.isRevoked(oldToken), 'the deletion\'s revocation is in force as the new state is');
    t.truthy(await deps.state.application('phoenix'));
  } finally {
    await deps.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an application read from the database on a cache miss is served only once the revocations recorded before it are in force', async (t) => {
  const dir = tempDir();
  const config = testConfig(dir);
  const kek = await prepareDatabase(config);
  t.is((await runAdmin(config, ['app', 'create', 'lazarus', '--secret', '--scopes', 'read', '--audiences', 'https://api.example'])).code, 0);
  const deps = await buildDeps(config, createLogger('silent'), kek, { pollMs: 3_600_000 });
  try {
    const oldToken = { jti: 'old-lazarus-token', clientId: 'lazarus', issuedAt: Math.floor(Date.now() / 1000) };
    t.is((await runAdmin(config, ['app', 'delete', 'lazarus'])).code, 0);
    t.is((await runAdmin(config, ['app', 'create', 'lazarus', '--secret', '--scopes', 'read', '--audiences', 'https://api.example'])).code, 0);
    // this worker has not polled since: the new lazarus is a cache miss, read from the database
    t.false(deps.revocations.isRevoked(oldToken));
    t.truthy(await deps.state.application('lazarus'));
    t.true(deps.revocations.isRevoked(oldToken), 'the deletion\'s revocation is in force as the new application is');
  } finally {
    await deps.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
