// Admin writers never fail because another is writing: CLI commands and a seed apply at once,
// against a server busy issuing tokens.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { basic, createApp, startInstance } from '../helpers/instance.ts';
import { adminProcess } from '../helpers/admin-process.ts';

test('five CLI commands and a seed apply at the same moment, beside a stream of token requests, all succeed', async (t) => {
  const instance = await startInstance();
  try {
    const secret = await createApp(instance, 'busy');
    let stop = false;
    let issued = 0;
    const load = (async () => {
      while (!stop) {
        const response = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('busy', secret) });
        if (response.status === 200) issued++;
      }
    })();
    const seedFile = join(instance.dir, 'concurrent.yaml');
    const apps = Array.from({ length: 50 }, (_, i) => `  - client_id: seeded-${i}\n    audiences: [https://api.example]\n`).join('');
    writeFileSync(seedFile, `applications:\n${apps}policies:\n  - name: seeded-policy\n    apps: [seeded-0, busy]\n    expression: "true"\n`);
    const runs = await Promise.all([
      adminProcess(instance, ['seed', seedFile]),
      adminProcess(instance, ['app', 'create', 'side-1', '--audiences', 'https://api.example']),
      adminProcess(instance, ['app', 'create', 'side-2', '--secret', '--audiences', 'https://api.example']),
      adminProcess(instance, ['service-account', 'create', 'side-account', '--app', 'busy']),
      adminProcess(instance, ['app', 'update', 'busy', '--ttl', '900']),
      adminProcess(instance, ['token', 'revoke', '--app', 'busy', '--before', 'now']),
    ]);
    stop = true;
    await load;
    for (const run of runs) t.is(run.code, 0, run.stderr);
    t.true(issued > 0);
    const listed = (await instance.admin('app', 'list', '--json')).json<{ client_id: string }[]>().map((a) => a.client_id);
    for (const name of ['seeded-0', 'seeded-49', 'side-1', 'side-2']) t.true(listed.includes(name), name);
  } finally {
    await instance.close();
  }
});
