import test from 'ava';
import { basic, capturingLogger, createApp, startInstance, untilPropagated } from '../helpers/instance.ts';

test('one JSON log line per request: method, path, status, duration, grant type, client_id and request id; never a secret', async (t) => {
  const logs = capturingLogger('info');
  const instance = await startInstance({}, { log: logs.log });
  try {
    const secret = await createApp(instance, 'billing');
    const ok = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('billing', secret), 'x-request-id': 'req-ok-1' });
    t.is(ok.status, 200);
    const { access_token } = (await ok.json()) as { access_token: string };
    const refused = await instance.token({ grant_type: 'client_credentials', client_id: 'billing', client_secret: `${secret}x` }, { 'x-request-id': 'req-bad-1' });
    t.is(refused.status, 401);
    await fetch(`${instance.url}/.well-known/jwks.json`, { headers: { 'x-request-id': 'req-jwks-1' } });
    await fetch(`${instance.url}/${secret}`, { headers: { 'x-request-id': 'req-path-1' } });
    await fetch(`${instance.url}/${secret.replace(/_/g, '%5F')}`, { headers: { 'x-request-id': 'req-path-2' } });

    const lines = logs.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const byId = (id: string) => lines.find((l) => l.msg === 'request' && l.request_id === id);
    t.like(byId('req-ok-1'), { level: 30, method: 'POST', path: '/token', status: 200, grant_type: 'client_credentials', client_id: 'billing' });
    t.is(typeof byId('req-ok-1')?.duration_ms, 'number');
    t.like(byId('req-bad-1'), { method: 'POST', path: '/token', status: 401, grant_type: 'client_credentials', client_id: 'billing' });
    t.like(byId('req-jwks-1'), { method: 'GET', path: '/.well-known/jwks.json', status: 200 });
    t.like(byId('req-path-1'), { status: 404, path: '(secret-shaped)' });
    t.like(byId('req-path-2'), { status: 404, path: '(secret-shaped)' });
    const text = logs.text();
    t.false(text.includes(secret), 'the client secret is logged');
    t.false(text.includes(secret.slice(-43)), 'part of the client secret is logged');
    t.false(text.includes(secret.split('_')[1]!), 'the id of the client secret is logged');
    t.false(text.includes(access_token), 'the access token is logged');

    // the audit event of the request carries the same id
    const events = await untilPropagated(
      async () => (await instance.admin('audit', 'list', '--app', 'billing', '--json')).json<{ details: { request_id?: string } | null }[]>(),
      (rows) => rows.some((r) => r.details?.request_id === 'req-bad-1'),
      5000,
    );
    t.true(events.some((r) => r.details?.request_id === 'req-ok-1'));
    t.true(events.some((r) => r.details?.request_id === 'req-bad-1'));
  } finally {
    await instance.close();
  }
});

test('LOG_LEVEL=warn leaves out the request lines', async (t) => {
  const logs = capturingLogger('warn');
  const instance = await startInstance({}, { log: logs.log });
  try {
    await fetch(`${instance.url}/healthz`);
    t.false(logs.text().includes('"msg":"request"'));
  } finally {
    await instance.close();
  }
});
