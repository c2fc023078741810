import test from 'ava';
import Database from 'better-sqlite3';
import { basic, runAdmin, startInstance, testConfig, untilPropagated } from '../helpers/instance.ts';

test('a secret hashed with older argon2 parameters is re-hashed with the current ones on the next successful verify', async (t) => {
  const instance = await startInstance();
  try {
    const weak = testConfig(instance.dir, { ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' });
    const created = await runAdmin(weak, ['app', 'create', 'legacy', '--secret', '--audiences', 'https://api.example', '--json']);
    const secret = created.json<{ client_secret: string }>().client_secret;
    const storedHash = () => (new Database(instance.config.databaseFile, { readonly: true }).prepare('SELECT secret_hash FROM applications WHERE client_id = ?').get('legacy') as { secret_hash: string }).secret_hash;
    t.regex(storedHash(), /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
    const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('legacy', secret) });
    t.is(res.status, 200);
    const rehashed = await untilPropagated(async () => storedHash(), (h) => h.includes('m=19456'));
    t.regex(rehashed, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('legacy', secret) })).status, 200);
  } finally {
    await instance.close();
  }
});

test('requests refused before authentication are audited too', async (t) => {
  const instance = await startInstance();
  try {
    await fetch(`${instance.url}/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'grant_type=client_credentials' });
    await instance.token({ grant_type: 'client_credentials', client_id: 'who', client_secret: 'guess' });
    await instance.serving.deps.writer.flush();
    const events = (await instance.admin('audit', 'list', '--json')).json<{ action: string; reason: string; client_id: string | null; details: { error?: string } }[]>();
    const denied = events.filter((e) => e.action === 'token.denied');
    t.true(denied.some((e) => e.details.error === 'invalid_request' && e.client_id === null));
    t.true(denied.some((e) => e.client_id === 'who' && e.reason === 'unknown client'));
  } finally {
    await instance.close();
  }
});
