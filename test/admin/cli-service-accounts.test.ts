import test, { type ExecutionContext } from 'ava';
import { rmSync } from 'node:fs';
import { generateSecret } from '../../src/secrets/format.ts';
import { prepareDatabase, runAdmin, startInstance, tempDir, testConfig, untilPropagated, type Instance } from '../helpers/instance.ts';
import { adminChecks } from '../helpers/admin-checks.ts';

// Serial: every command opens its own Prisma client on the one SQLite file.
const dir = tempDir();
const config = testConfig(dir);
const admin = (...argv: string[]) => runAdmin(config, argv);

test.before(async () => {
  await prepareDatabase(config);
  for (const argv of [
    ['app', 'create', 'billing', '--audiences', 'https://api.example'],
    ['app', 'create', 'reports', '--audiences', 'https://api.example'],
    ['service-account', 'create', 'robot', '--app', 'billing', '--name', 'Robot', '--groups', 'ops,etl', '--permissions', 'invoices:read'],
    ['service-account', 'create', 'auditor', '--app', 'reports'],
  ]) {
    const run = await admin(...argv);
    if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
  }
});
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const { ok, json, refused } = adminChecks<AccountView>(admin);

type AccountView = {
  username: string;
  display_name: string;
  applications: string[];
  enabled: boolean;
  groups: string[];
  permissions: string[];
  attributes: Record<string, unknown>;
  created_at: string;
  app_passwords?: { active: number; expired: number; revoked: number };
  last_used_at?: string | null;
  deleted_app_passwords?: number;
};
type AuditView = { action: string; client_id: string | null; subject: string | null; details: Record<string, unknown> | null };

const auditOf = async (t: ExecutionContext, username: string) => (await json<AuditView[]>(t, 'audit', 'list', '--limit', '100000')).filter((e) => e.subject === username);

// ── list and show ──────────────────────────────────────────────────────────────────────────

test.serial('service-account list --json lists every account by username, with its applications, groups and permissions', async (t) => {
  const accounts = await json<AccountView[]>(t, 'service-account', 'list');
  t.deepEqual(accounts.map((a) => a.username), ['auditor', 'robot']);
  t.like(accounts[1], { username: 'robot', display_name: 'Robot', applications: ['billing'], enabled: true, groups: ['ops', 'etl'], permissions: ['invoices:read'], attributes: {} });
  t.false(JSON.stringify(accounts).includes('tmap_'));
  t.false(JSON.stringify(accounts).includes('$argon2'));
});

test.serial('service-account list without --json prints a table of username, display name, applications, enabled, groups and permissions', async (t) => {
  const run = await ok(t, 'service-account', 'list');
  t.regex(run.stdout, /^USERNAME +DISPLAY_NAME +APPLICATIONS +ENABLED +GROUPS +PERMISSIONS\n/);
  t.regex(run.stdout, /^robot +Robot +billing +true +ops,etl +invoices:read$/m);
});

test.serial('service-account show prints one account with its attributes and a count of its app passwords', async (t) => {
  const extra = await json<{ id: string }>(t, 'app-password', 'create', 'robot');
  await ok(t, 'app-password', 'revoke', extra.id);
  await ok(t, 'app-password', 'create', 'robot', '--expires', '1d');
  const shown = await json(t, 'service-account', 'show', 'robot');
  t.like(shown, { username: 'robot', applications: ['billing'], attributes: {}, app_passwords: { active: 2, expired: 0, revoked: 1 }, last_used_at: null });
  const text = await ok(t, 'service-account', 'show', 'robot');
  t.regex(text.stdout, /^attributes: +\{\}$/m);
  t.regex(text.stdout, /^app_passwords: +\{"active":2,"expired":0,"revoked":1\}$/m);
});

test.serial('show, update, enable, disable and delete of an unknown account are refused in one line', async (t) => {
  for (const argv of [['show', 'nobody'], ['update', 'nobody', '--name', 'N'], ['enable', 'nobody'], ['disable', 'nobody'], ['delete', 'nobody']]) {
    await refused(t, ['service-account', ...argv], 'no service account "nobody"');
  }
});

// ── update ─────────────────────────────────────────────────────────────────────────────────

test.serial('service-account update changes only the given fields; --groups and --permissions replace the lists', async (t) => {
  t.like(await json(t, 'service-account', 'update', 'robot', '--name', 'Nightly robot'), { display_name: 'Nightly robot', groups: ['ops', 'etl'], permissions: ['invoices:read'] });
  const updated = await json(t, 'service-account', 'update', 'robot', '--groups', 'finance', '--permissions', 'invoices:write, invoices:read,invoices:write');
  t.like(updated, { display_name: 'Nightly robot', groups: ['finance'], permissions: ['invoices:write', 'invoices:read'], attributes: {} });
  t.like(await json(t, 'service-account', 'update', 'robot', '--groups', ''), { groups: [], permissions: ['invoices:write', 'invoices:read'] });
  t.like(await json(t, 'service-account', 'show', 'robot'), { display_name: 'Nightly robot', groups: [], permissions: ['invoices:write', 'invoices:read'] });
  t.like(await json(t, 'service-account', 'update', 'robot', '--groups', 'ops', '--groups', 'etl'), { groups: ['ops', 'etl'] });
});

test.serial('service-account update --attributes replaces the attributes with the JSON object given', async (t) => {
  const attributes = { team: 'payments', tier: 2, on_call: true, regions: ['eu', 'us'], owner: { name: 'Ana', ids: [1, 2] } };
  t.deepEqual((await json(t, 'service-account', 'update', 'robot', '--attributes', JSON.stringify(attributes))).attributes, attributes);
  t.deepEqual((await json(t, 'service-account', 'show', 'robot')).attributes, attributes);
  t.deepEqual((await json(t, 'service-account', 'update', 'robot', '--attributes', '{"team": "data"}')).attributes, { team: 'data' });
});

test.serial('attributes are what policies read as service_account.attributes', async (t) => {
  await ok(t, 'policy', 'add', 'data-team', '--app', 'billing', '--expression', 'service_account != null && service_account.attributes.team == "data"');
  t.like(await json<{ decision: string }>(t, 'policy', 'test', 'data-team', '--username', 'robot'), { decision: 'allow' });
  await ok(t, 'service-account', 'update', 'robot', '--attributes', '{"team": "web"}');
  t.like(await json<{ decision: string }>(t, 'policy', 'test', 'data-team', '--username', 'robot'), { decision: 'deny' });
});

const deep = (levels: number): string => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
const BAD_ATTRIBUTES: [string, string, string | RegExp][] = [
  ['text that is not JSON', '{team: payments}', '--attributes is not JSON: give an object such as {"team": "payments"}'],
  ['an array', '["ops"]', '--attributes must be a JSON object, such as {"team": "payments"}'],
  ['a string', '"ops"', '--attributes must be a JSON object, such as {"team": "payments"}'],
  ['null', 'null', '--attributes must be a JSON object, such as {"team": "payments"}'],
  ['a number', '42', '--attributes must be a JSON object, such as {"team": "payments"}'],
  ['more than 16 KiB', JSON.stringify({ blob: 'x'.repeat(16 * 1024) }), '--attributes is larger than 16 KiB'],
  ['more than 16 KiB of multi-byte text', JSON.stringify({ blob: 'é'.repeat(8 * 1024) }), '--attributes is larger than 16 KiB'],
  ['nested 9 levels deep', deep(9), '--attributes nests deeper than 8 levels'],
  ['an array nested 9 levels deep', `{"a":${'['.repeat(8)}${']'.repeat(8)}}`, '--attributes nests deeper than 8 levels'],
  ['8000 levels deep', `{"a":${'['.repeat(8000)}${']'.repeat(8000)}}`, '--attributes nests deeper than 8 levels'],
  ['an app password as a value', JSON.stringify({ deploy: { token: generateSecret('app-password').secret } }), '--attributes holds a value shaped like a tokenmint secret at attributes.deploy.token: secrets do not belong in attributes'],
  ['a client secret in an array', JSON.stringify({ list: ['ok', generateSecret('client-secret').secret] }), '--attributes holds a value shaped like a tokenmint secret at attributes.list[1]: secrets do not belong in attributes'],
  ['a secret as a key', JSON.stringify({ [generateSecret('app-password').secret]: 1 }), '--attributes holds a key shaped like a tokenmint secret: secrets do not belong in attributes'],
];

for (const [name, text, reason] of BAD_ATTRIBUTES) {
  test.serial(`--attributes of ${name} is refused and changes nothing`, async (t) => {
    const before = await json(t, 'service-account', 'show', 'robot');
    await refused(t, ['service-account', 'update', 'robot', '--name', 'changed', '--attributes', text], reason);
    t.deepEqual(await json(t, 'service-account', 'show', 'robot'), before);
  });
}

test.serial('--attributes at the limits is accepted: 8 levels, 16 KiB', async (t) => {
  t.deepEqual((await json(t, 'service-account', 'update', 'auditor', '--attributes', deep(8))).attributes, JSON.parse(deep(8)));
  const big = JSON.stringify({ blob: 'x'.repeat(16 * 1024 - 20) });
  t.is(((await json(t, 'service-account', 'update', 'auditor', '--attributes', big)).attributes.blob as string).length, 16 * 1024 - 20);
  t.deepEqual((await json(t, 'service-account', 'update', 'auditor', '--attributes', '{}')).attributes, {});
});

test.serial('service-account update with nothing to change, or a bad group or permission, is refused', async (t) => {
  await refused(t, ['service-account', 'update', 'robot'], 'nothing to change');
  await refused(t, ['service-account', 'update', 'robot', '--groups', 'a b'], /^error: group "a b" /);
  await refused(t, ['service-account', 'update', 'robot', '--permissions', 'x,y z'], /^error: permission "y z" /);
  await refused(t, ['service-account', 'update', 'robot', '--name', ''], /^error: display name "" /);
  await refused(t, ['service-account', 'update', 'robot', '--name', 'a', '--name', 'b'], /--name may be given once/);
});

test.serial('service-account update is audited with what changed, never the attribute values', async (t) => {
  await ok(t, 'service-account', 'update', 'robot', '--name', 'Robot', '--attributes', '{"cost_center": "4711"}');
  const [event] = await auditOf(t, 'robot');
  t.like(event, { action: 'service_account.updated', client_id: 'billing', subject: 'robot' });
  t.like(event!.details, { actor: 'admin-cli', changed: ['display_name', 'attributes'], display_name: 'Robot', attribute_keys: ['cost_center'], applications: ['billing'] });
  t.false(JSON.stringify(event).includes('4711'));
});

test.serial('a service-account update that changes nothing succeeds and writes no audit event', async (t) => {
  const before = (await auditOf(t, 'robot')).length;
  t.like(await json(t, 'service-account', 'update', 'robot', '--name', 'Robot', '--attributes', '{"cost_center": "4711"}'), { display_name: 'Robot' });
  t.is((await auditOf(t, 'robot')).length, before);
});

// ── enable, disable, delete ────────────────────────────────────────────────────────────────

test.serial('service-account disable and enable flip enabled and are audited', async (t) => {
  t.like(await json(t, 'service-account', 'disable', 'auditor'), { username: 'auditor', enabled: false });
  t.like(await json(t, 'service-account', 'show', 'auditor'), { enabled: false });
  t.like(await json(t, 'service-account', 'enable', 'auditor'), { enabled: true });
  t.deepEqual((await auditOf(t, 'auditor')).slice(0, 2).map((e) => [e.action, e.client_id]), [['service_account.enabled', 'reports'], ['service_account.disabled', 'reports']]);
});

test.serial('service-account delete deletes the account and its app passwords; the name is free again', async (t) => {
  await ok(t, 'service-account', 'create', 'short-lived', '--app', 'reports');
  const { id } = await json<{ id: string }>(t, 'app-password', 'create', 'short-lived');
  const deleted = await json(t, 'service-account', 'delete', 'short-lived');
  t.like(deleted, { username: 'short-lived', applications: ['reports'], deleted_app_passwords: 2 });
  await refused(t, ['service-account', 'show', 'short-lived'], 'no service account "short-lived"');
  await refused(t, ['app-password', 'revoke', id], `no app password "${id}"`);
  await refused(t, ['service-account', 'delete', 'short-lived'], 'no service account "short-lived"');
  t.false((await json<AccountView[]>(t, 'service-account', 'list')).some((a) => a.username === 'short-lived'));
  const [event] = await auditOf(t, 'short-lived');
  t.like(event, { action: 'service_account.deleted', client_id: 'reports', details: { app_passwords: 2 } });
  await ok(t, 'app', 'create', 'short-lived', '--audiences', 'https://api.example');
});

test.serial('service-account commands show required options and arguments in --help', async (t) => {
  const run = await admin('service-account', 'create', '--help');
  t.is(run.code, 0);
  t.regex(run.stdout, /^Usage: admin service-account create \[options\] <username>$/m);
  t.regex(run.stdout, /--app <client_id> +the application it gets tokens for \(required\)/);
  t.notRegex(run.stdout, /--groups <list>.*\(required\)/);
});

// ── over HTTP ──────────────────────────────────────────────────────────────────────────────

const serving = test.serial;
let instance: Instance | undefined;
test.after.always(() => instance?.close());

async function running(t: ExecutionContext): Promise<{ server: Instance; username: string; password: string }> {
  instance ??= await startInstance();
  if ((await instance.admin('app', 'show', 'live')).code !== 0) {
    const app = await instance.admin('app', 'create', 'live', '--audiences', 'https://api.example');
    t.is(app.code, 0, app.stderr);
  }
  const username = `live-${t.title.length}`;
  const account = await instance.admin('service-account', 'create', username, '--app', 'live', '--json');
  t.is(account.code, 0, account.stderr);
  return { server: instance, username, password: account.json<{ app_password: string }>().app_password };
}

async function tokenAs(server: Instance, username: string, password: string): Promise<{ status: number; error?: string }> {
  const res = await server.token({ grant_type: 'client_credentials', client_id: 'live', username, password });
  const body = (await res.json()) as { error?: string };
  return { status: res.status, error: body.error };
}

serving('a disabled service account gets no token from a running server within 2 seconds; enabled again, it does', async (t) => {
  const { server, username, password } = await running(t);
  const request = () => tokenAs(server, username, password);
  t.is((await request()).status, 200);
  t.is((await server.admin('service-account', 'disable', username)).code, 0);
  t.deepEqual(await untilPropagated(request, (r) => r.status !== 200), { status: 400, error: 'invalid_grant' });
  t.is((await server.admin('service-account', 'enable', username)).code, 0);
  t.is((await untilPropagated(request, (r) => r.status === 200)).status, 200);
});

serving('a deleted service account gets no token from a running server within 2 seconds', async (t) => {
  const { server, username, password } = await running(t);
  const request = () => tokenAs(server, username, password);
  t.is((await request()).status, 200);
  t.is((await server.admin('service-account', 'delete', username)).code, 0);
  t.deepEqual(await untilPropagated(request, (r) => r.status !== 200), { status: 400, error: 'invalid_grant' });
  // a new account of the same name does not inherit the deleted one's password
  t.is((await server.admin('service-account', 'create', username, '--app', 'live')).code, 0);
  await new Promise((r) => setTimeout(r, 500));
  t.deepEqual(await request(), { status: 400, error: 'invalid_grant' });
});
