import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { basic, createApp, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';

let instance: Instance;
let password: string;
let passwordId: string;

test.before(async () => {
  instance = await startInstance();
  await createApp(instance, 'reports');
  await createApp(instance, 'elsewhere');
  const created = await instance.admin('service-account', 'create', 'nightly-job', '--app', 'reports', '--groups', 'etl,ops', '--permissions', 'reports:read,reports:write', '--json');
  password = created.json<{ app_password: string }>().app_password;
  passwordId = created.json<{ app_password_id: string }>().app_password_id;
});
test.after.always(() => instance?.close());

const serviceForm = (extra: Record<string, string> = {}) => ({ grant_type: 'client_credentials', client_id: 'reports', username: 'nightly-job', password, ...extra });

async function denied(t: import('ava').ExecutionContext, res: Response) {
  t.is(res.status, 400);
  t.deepEqual(await res.json(), { error: 'invalid_grant', error_description: 'invalid username or password' });
}

test('a service account gets a token with its username as sub, its groups and permissions', async (t) => {
  const res = await instance.token(serviceForm());
  t.is(res.status, 200);
  const body = (await res.json()) as { access_token: string };
  const { payload } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL(`${instance.url}/.well-known/jwks.json`)), {
    issuer: TEST_ISSUER,
    audience: 'https://api.example',
  });
  t.is(payload.sub, 'nightly-job');
  t.is(payload.client_id, 'reports');
  t.deepEqual(payload.groups, ['etl', 'ops']);
  t.deepEqual(payload.permissions, ['reports:read', 'reports:write']);
});

test('grant_type=password is accepted as an alias of the service-account form', async (t) => {
  const res = await instance.token(serviceForm({ grant_type: 'password' }));
  t.is(res.status, 200);
});

test('wrong password, unknown user, another account and an unbound application all get the same answer', async (t) => {
  await denied(t, await instance.token(serviceForm({ password: `${password.slice(0, -3)}abc` })));
  await denied(t, await instance.token(serviceForm({ username: 'no-such-account' })));
  await denied(t, await instance.token(serviceForm({ password: 'not-even-a-token' })));
  const other = await instance.admin('service-account', 'create', 'other-job', '--app', 'reports', '--json');
  await denied(t, await instance.token(serviceForm({ username: 'other-job' })));
  await denied(t, await instance.token(serviceForm({ client_id: 'elsewhere' })));
  t.is(other.code, 0);
});

test('an unknown application is invalid_client', async (t) => {
  const res = await instance.token(serviceForm({ client_id: 'ghost' }));
  t.is(res.status, 401);
  t.is(((await res.json()) as { error: string }).error, 'invalid_client');
});

test('username without password is invalid_request', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials', client_id: 'reports', username: 'nightly-job' });
  t.is(res.status, 400);
  t.is(((await res.json()) as { error: string }).error, 'invalid_request');
});

test('several app passwords work side by side, and a revoked one stops within 2 seconds', async (t) => {
  await instance.admin('service-account', 'create', 'rotating', '--app', 'reports', '--json');
  const second = await instance.admin('app-password', 'create', 'rotating', '--description', 'next', '--json');
  const secondPassword = second.json<{ app_password: string; id: string }>();
  const first = (await instance.admin('app-password', 'list', 'rotating', '--json')).json<{ id: string }[]>()[0]!;
  const form = { grant_type: 'client_credentials', client_id: 'reports', username: 'rotating', password: secondPassword.app_password };
  t.is((await instance.token(form)).status, 200);
  t.is((await instance.token(form)).status, 200, 'served from the verified-secret cache');
  t.is((await instance.admin('app-password', 'revoke', secondPassword.id)).code, 0);
  const after = await untilPropagated(() => instance.token(form), (r) => r.status === 400);
  await denied(t, after);
  t.not(first.id, secondPassword.id);
});

test('an expired app password is refused', async (t) => {
  const created = await instance.admin('service-account', 'create', 'short-job', '--app', 'reports', '--expires', '1s', '--json');
  const form = { grant_type: 'client_credentials', client_id: 'reports', username: 'short-job', password: created.json<{ app_password: string }>().app_password };
  await new Promise((r) => setTimeout(r, 1100));
  await denied(t, await instance.token(form));
});

test('use of an app password is recorded as last_used_at', async (t) => {
  t.is((await instance.token(serviceForm())).status, 200);
  await instance.serving.deps.writer.flush();
  const list = (await instance.admin('app-password', 'list', 'nightly-job', '--json')).json<{ id: string; last_used_at: string | null }[]>();
  const used = list.find((p) => p.id === passwordId);
  t.truthy(used?.last_used_at);
});

test('a disabled application stops working within 2 seconds', async (t) => {
  const secret = await createApp(instance, 'doomed');
  const ok = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('doomed', secret) });
  t.is(ok.status, 200);
  t.is((await instance.admin('app', 'disable', 'doomed')).code, 0);
  const after = await untilPropagated(() => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('doomed', secret) }), (r) => r.status === 401);
  t.is(after.status, 401);
});

test('a rotated client secret stops working within 2 seconds and the new one works', async (t) => {
  const secret = await createApp(instance, 'rotated');
  t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('rotated', secret) })).status, 200);
  const rotated = await instance.admin('app', 'rotate-secret', 'rotated', '--json');
  const fresh = rotated.json<{ client_secret: string }>().client_secret;
  const old = await untilPropagated(() => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('rotated', secret) }), (r) => r.status === 401);
  t.is(old.status, 401);
  t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('rotated', fresh) })).status, 200);
});

test('every token request is audited, with the reason of a failure', async (t) => {
  await instance.token(serviceForm());
  await instance.token(serviceForm({ username: 'audited-nobody' }));
  await instance.serving.deps.writer.flush();
  const events = (await instance.admin('audit', 'list', '--app', 'reports', '--json')).json<{ action: string; outcome: string; subject: string; reason: string | null; ip: string }[]>();
  const issued = events.find((e) => e.action === 'token.issued' && e.subject === 'nightly-job');
  const failed = events.find((e) => e.action === 'token.denied' && e.subject === 'audited-nobody');
  t.is(issued?.outcome, 'success');
  t.is(failed?.outcome, 'failure');
  t.is(failed?.reason, 'unknown service account');
  t.truthy(issued?.ip);
});

test.serial('every failed sign-in costs exactly one argon2 verification, whether or not the account exists', async (t) => {
  const { hasher } = instance.serving.deps;
  const cases: Record<string, string>[] = [
    serviceForm({ password: `${password.slice(0, -3)}xyz` }),
    serviceForm({ username: 'nobody-at-all' }),
    serviceForm({ password: 'malformed' }),
    serviceForm({ client_id: 'elsewhere' }),
    serviceForm({ client_id: 'no-such-app' }),
    { grant_type: 'client_credentials', client_id: 'reports', client_secret: 'wrong' },
    { grant_type: 'client_credentials', client_id: 'no-such-app', client_secret: 'wrong' },
  ];
  for (const form of cases) {
    const before = hasher.verifications;
    const res = await instance.token(form);
    t.true(res.status === 400 || res.status === 401);
    t.is(hasher.verifications - before, 1, JSON.stringify({ ...form, password: undefined }));
  }
});
