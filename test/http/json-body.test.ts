import test from 'ava';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { basic, prepareDatabase, runAdmin, tempDir, testConfig } from '../helpers/instance.ts';
import { freePort, startBuilt, waitReady } from '../helpers/process.ts';

test('a server answers JSON (a token, an OAuth error, not found, health, discovery) without ever loading the fetch implementation', async (t) => {
  const dir = tempDir();
  const config = testConfig(dir);
  await prepareDatabase(config);
  const created = await runAdmin(config, ['app', 'create', 'svc', '--secret', '--scopes', 'read', '--audiences', 'https://api.example', '--json']);
  const secret = created.json<{ client_secret: string }>().client_secret;
  // what the server process loaded, written as it exits
  const report = join(dir, 'report.mjs');
  writeFileSync(report, `process.on('exit', () => process.stderr.write('undici loaded: [' + process.moduleLoadList.filter((m) => m.includes('undici')).join(',') + ']\\n'));`);
  const port = await freePort();
  // the built server, as production runs it: under tsx the sources' ESM imports of node:http load
  // undici themselves on Node.js 22 and later, which the bundle avoids (scripts/build.js)
  const { child, output } = startBuilt({
    DATABASE_URL: `file:${config.databaseFile}`,
    ISSUER_URL: config.issuer,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKERS: '1',
    LOG_LEVEL: 'silent',
    NODE_OPTIONS: `--import=${report}`,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    t.true(await waitReady(url), output().stderr);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const answers = await Promise.all([
      fetch(`${url}/token`, { method: 'POST', headers: { ...form, authorization: basic('svc', secret) }, body: 'grant_type=client_credentials' }),
      fetch(`${url}/token`, { method: 'POST', headers: form, body: 'grant_type=password' }),
      fetch(`${url}/nothing-here`),
      fetch(`${url}/healthz`),
      fetch(`${url}/.well-known/openid-configuration`),
    ]);
    t.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 404, 200, 200],
    );
    for (const answer of answers) t.is(answer.headers.get('content-type'), 'application/json; charset=utf-8');
    const [token, refused, missing, health, discovery] = (await Promise.all(answers.map((a) => a.json()))) as Record<string, unknown>[];
    t.is(token!.token_type, 'Bearer');
    t.is(refused!.error, 'invalid_request');
    t.is(missing!.error, 'not_found');
    t.deepEqual(health, { status: 'ok' });
    t.is(discovery!.issuer, config.issuer);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  t.regex(output().stderr, /^undici loaded: \[\]$/m);
});
