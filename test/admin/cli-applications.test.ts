import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExternalIssuer, issuerKey } from '../helpers/external-issuer.ts';
import { basic, createApp, prepareDatabase, runAdmin, startInstance, tempDir, testConfig, untilPropagated, type Instance } from '../helpers/instance.ts';
import { adminChecks } from '../helpers/admin-checks.ts';

// Serial: every command opens its own Prisma client on the one SQLite file.
const dir = tempDir();
const config = testConfig(dir);
const admin = (...argv: string[]) => runAdmin(config, argv);
const partner = new ExternalIssuer('https://partner.example');
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

test.before(async () => {
  await prepareDatabase(config);
  partner.keys.push(await issuerKey('ES256'));
});
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const { ok, json, refused } = adminChecks<AppView>(admin);

type AppView = {
  client_id: string;
  name: string;
  has_secret: boolean;
  grant_types: string[];
  scopes: string[];
  default_scopes: string[];
  audiences: string[];
  default_audience: string | null;
  access_token_ttl: number | null;
  policy_mode: string;
  enabled: boolean;
};
type AuditView = { action: string; client_id: string | null; subject: string | null; details: Record<string, unknown> | null };

let files = 0;
function writeFile(text: string): string {
  const path = join(dir, `input-${++files}`);
  writeFileSync(path, text);
  return path;
}
const publicPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
const create = (t: ExecutionContext, clientId: string, ...extra: string[]) =>
  json(t, 'app', 'create', clientId, '--scopes', 'read write', '--default-scopes', 'read', '--audiences', 'https://api.example,https://other.example', ...extra);

// ── app update ─────────────────────────────────────────────────────────────────────────────

test.serial('app update changes only the given fields', async (t) => {
  const before = await create(t, 'billing', '--ttl', '300');
  const renamed = await json(t, 'app', 'update', 'billing', '--name', 'Billing service');
  t.deepEqual(renamed, { ...before, name: 'Billing service' });
  const updated = await json(t, 'app', 'update', 'billing', '--scopes', 'read write admin', '--default-scopes', 'read write', '--audiences', 'https://new.example', '--grants', 'client_credentials,jwt-bearer', '--ttl', '60', '--policy-mode', 'any');
  t.deepEqual(updated, {
    ...before,
    name: 'Billing service',
    scopes: ['read', 'write', 'admin'],
    default_scopes: ['read', 'write'],
    audiences: ['https://new.example'],
    default_audience: 'https://new.example',
    grant_types: ['client_credentials', JWT_BEARER],
    access_token_ttl: 60,
    policy_mode: 'any',
  });
  t.deepEqual(await json(t, 'app', 'show', 'billing'), updated);
});

test.serial('app update --ttl default returns to the deployment lifetime', async (t) => {
  t.is((await json(t, 'app', 'update', 'billing', '--ttl', 'default')).access_token_ttl, null);
  t.is((await json(t, 'app', 'update', 'billing', '--ttl', '120')).access_token_ttl, 120);
});

const BAD_UPDATES: [string, string[], string | RegExp][] = [
  ['scopes that leave a default scope out', ['--scopes', 'read'], 'default scope "write" is not among the application\'s scopes'],
  ['a default scope that is not a scope', ['--default-scopes', 'delete'], 'default scope "delete" is not among the application\'s scopes'],
  ['no audiences', ['--audiences', ''], /^error: give at least one --audiences/],
  ['an audience with a space', ['--audiences', 'https://ok.example,has space'], /^error: audience "has space" /],
  ['an unknown grant type', ['--grants', 'password'], /^error: unknown grant type "password"/],
  ['no grant type', ['--grants', ''], '--grants must name at least one grant type'],
  ['a scope that is not a scope token', ['--scopes', 'read "x"'], /^error: scope "\\"x\\"" is not a valid scope/],
  ['a ttl below 30 s', ['--ttl', '29'], /^error: ttl 29 /],
  ['a ttl above a day', ['--ttl', '86401'], /^error: ttl 86401 /],
  ['a ttl that is no number', ['--ttl', 'soon'], '--ttl must be a whole number of seconds or default'],
  ['a bad policy mode', ['--policy-mode', 'some'], /^error: policy mode "some" /],
  ['an option given twice', ['--ttl', '60', '--ttl', '90'], /--ttl may be given once/],
];

for (const [name, options, reason] of BAD_UPDATES) {
  test.serial(`app update with ${name} is refused as app create refuses it, and changes nothing`, async (t) => {
    const before = await json(t, 'app', 'show', 'billing');
    await refused(t, ['app', 'update', 'billing', '--name', 'half-done', ...options], reason);
    t.deepEqual(await json(t, 'app', 'show', 'billing'), before);
  });
}

test.serial('app update with nothing to change, or of an unknown application, is refused', async (t) => {
  await refused(t, ['app', 'update', 'billing'], 'nothing to change');
  await refused(t, ['app', 'update', 'billing', '--json'], 'nothing to change');
  await refused(t, ['app', 'update', 'nobody', '--name', 'N'], 'no application "nobody"');
});

test.serial('app update is audited with each changed field, old and new; an update that changes nothing writes no event', async (t) => {
  await ok(t, 'app', 'update', 'billing', '--scopes', 'read write admin audit', '--name', 'Billing service');
  const [event] = await json<AuditView[]>(t, 'audit', 'list', '--app', 'billing', '--limit', '1');
  t.like(event, { action: 'app.updated', client_id: 'billing' });
  t.deepEqual(event!.details, { actor: 'admin-cli', changes: { scopes: { from: ['read', 'write', 'admin'], to: ['read', 'write', 'admin', 'audit'] } } });
  const count = (await json<AuditView[]>(t, 'audit', 'list', '--app', 'billing')).length;
  await ok(t, 'app', 'update', 'billing', '--policy-mode', 'any');
  t.is((await json<AuditView[]>(t, 'audit', 'list', '--app', 'billing')).length, count);
});

// ── app enable ─────────────────────────────────────────────────────────────────────────────

test.serial('app enable turns a disabled application on again; both are audited', async (t) => {
  await create(t, 'switch');
  t.false((await json(t, 'app', 'disable', 'switch')).enabled);
  t.true((await json(t, 'app', 'enable', 'switch')).enabled);
  t.true((await json(t, 'app', 'show', 'switch')).enabled);
  const actions = (await json<AuditView[]>(t, 'audit', 'list', '--app', 'switch')).map((e) => e.action);
  t.deepEqual(actions.slice(0, 2), ['app.enabled', 'app.disabled']);
  await refused(t, ['app', 'enable', 'nobody'], 'no application "nobody"');
});

// ── app delete ─────────────────────────────────────────────────────────────────────────────

test.serial('app delete of an application nothing refers to deletes it; the client id is free again', async (t) => {
  await create(t, 'lonely');
  t.like(await json(t, 'app', 'delete', 'lonely'), { client_id: 'lonely', deleted_service_accounts: [], unbound_policies: [] });
  await refused(t, ['app', 'show', 'lonely'], 'no application "lonely"');
  await refused(t, ['app', 'delete', 'lonely'], 'no application "lonely"');
  await refused(t, ['app', 'delete', 'lonely', '--force'], 'no application "lonely"');
  await ok(t, 'service-account', 'create', 'lonely', '--app', 'billing');
  const [event] = (await json<AuditView[]>(t, 'audit', 'list', '--app', 'lonely')).filter((e) => e.action === 'app.deleted');
  t.like(event?.details, { deleted_service_accounts: [], unbound_certificates: [] });
});

async function busyApplication(t: ExecutionContext): Promise<void> {
  await create(t, 'busy');
  await ok(t, 'service-account', 'create', 'busy-only', '--app', 'busy');
  await ok(t, 'service-account', 'create', 'busy-too', '--app', 'busy');
  // an account bound to two applications (bound here directly: no command binds one to a second application)
  const db = new Database(config.databaseFile);
  try {
    db.prepare(`INSERT INTO service_account_bindings (service_account_id, application_id)
      SELECT s.id, a.id FROM service_accounts s, applications a WHERE s.username = 'busy-too' AND a.client_id = 'billing'`).run();
  } finally {
    db.close();
  }
  await ok(t, 'cert', 'add', 'busy-cert', '--file', writeFile(publicPem()), '--app', 'busy', '--app', 'billing');
  await ok(t, 'jwks', 'add', 'busy-jwks', '--file', writeFile(JSON.stringify(partner.jwks())), '--issuer', partner.issuer, '--app', 'busy');
  await ok(t, 'policy', 'add', 'busy-policy', '--app', 'busy', '--expression', 'true');
}

test.serial('app delete refuses while anything refers to the application, and names each of them', async (t) => {
  await busyApplication(t);
  await refused(
    t,
    ['app', 'delete', 'busy'],
    'application busy is in use by service accounts busy-only, busy-too; certificate busy-cert; JWKS source busy-jwks; policy busy-policy; ' +
      '--force deletes it with the service accounts bound only to it (busy-only) and removes its bindings',
  );
  t.like(await json(t, 'app', 'show', 'busy'), { client_id: 'busy' });
  t.like(await json(t, 'service-account', 'show', 'busy-only'), { applications: ['busy'] });
  t.false((await json<AuditView[]>(t, 'audit', 'list', '--app', 'busy')).some((e) => e.action === 'app.deleted'));
});

test.serial('app delete --force deletes the service accounts bound only to it and unbinds everything else', async (t) => {
  const { id: passwordId } = await json<{ id: string }>(t, 'app-password', 'create', 'busy-only');
  const deleted = await json<Record<string, unknown>>(t, 'app', 'delete', 'busy', '--force');
  t.like(deleted, {
    client_id: 'busy',
    deleted_service_accounts: ['busy-only'],
    unbound_service_accounts: ['busy-too'],
    unbound_certificates: ['busy-cert'],
    unbound_jwks_sources: ['busy-jwks'],
    unbound_policies: ['busy-policy'],
  });
  await refused(t, ['app', 'show', 'busy'], 'no application "busy"');
  await refused(t, ['service-account', 'show', 'busy-only'], 'no service account "busy-only"');
  await refused(t, ['app-password', 'revoke', passwordId], `no app password "${passwordId}"`);
  t.like(await json(t, 'service-account', 'show', 'busy-too'), { applications: ['billing'] });
  t.like((await json<{ name: string; applications: string[] }[]>(t, 'cert', 'list')).find((c) => c.name === 'busy-cert'), { applications: ['billing'] });
  t.like((await json<{ name: string; applications: string[] }[]>(t, 'jwks', 'list')).find((s) => s.name === 'busy-jwks'), { applications: [] });
  t.like(await json<{ applications: string[] }>(t, 'policy', 'show', 'busy-policy'), { applications: [] });
  // what is bound to nothing any more can go without --force
  await ok(t, 'policy', 'remove', 'busy-policy');
  await ok(t, 'jwks', 'remove', 'busy-jwks');

  const events = await json<AuditView[]>(t, 'audit', 'list', '--app', 'busy');
  t.deepEqual(events.slice(0, 2).map((e) => [e.action, e.subject]), [['app.deleted', null], ['service_account.deleted', 'busy-only']]);
  t.like(events[0]!.details, {
    deleted_service_accounts: ['busy-only'],
    unbound_service_accounts: ['busy-too'],
    unbound_certificates: ['busy-cert'],
    unbound_jwks_sources: ['busy-jwks'],
    unbound_policies: ['busy-policy'],
  });
});

test.serial('a refusal names at most 20 of a kind and counts the rest', async (t) => {
  await create(t, 'crowded');
  for (let i = 0; i < 22; i++) await ok(t, 'policy', 'add', `crowd-${String(i).padStart(2, '0')}`, '--app', 'crowded', '--expression', 'true');
  const run = await admin('app', 'delete', 'crowded');
  t.is(run.code, 1);
  t.regex(run.stderr, /^error: application crowded is in use by policies crowd-00, crowd-01, .*crowd-19 and 2 more; --force deletes it and removes its bindings\n$/);
});

// ── over HTTP ──────────────────────────────────────────────────────────────────────────────

let instance: Instance | undefined;
test.after.always(() => instance?.close());

test.serial('a deleted application, its secret and its service accounts get no token from a running server within 2 seconds', async (t) => {
  instance = await startInstance();
  const secret = await createApp(instance, 'doomed');
  const account = await instance.admin('service-account', 'create', 'doomed-robot', '--app', 'doomed', '--json');
  t.is(account.code, 0, account.stderr);
  const password = account.json<{ app_password: string }>().app_password;
  const withSecret = async () => (await instance!.token({ grant_type: 'client_credentials' }, { authorization: basic('doomed', secret) })).status;
  const withPassword = async () => (await instance!.token({ grant_type: 'client_credentials', client_id: 'doomed', username: 'doomed-robot', password })).status;
  t.is(await withSecret(), 200);
  t.is(await withPassword(), 200);

  t.is((await instance.admin('app', 'delete', 'doomed')).code, 1);
  t.is(await withSecret(), 200);
  t.is((await instance.admin('app', 'delete', 'doomed', '--force')).code, 0);
  t.is(await untilPropagated(withSecret, (s) => s !== 200), 401);
  t.is(await withPassword(), 401);

  // the same client id again: the old secret and password are not the new application's
  await createApp(instance, 'doomed');
  await new Promise((r) => setTimeout(r, 500));
  t.is(await withSecret(), 401);
  t.is(await withPassword(), 400);
});

test.serial('app enable lets a disabled application get tokens from a running server again within 2 seconds', async (t) => {
  const secret = await createApp(instance!, 'flapping');
  const request = async () => (await instance!.token({ grant_type: 'client_credentials' }, { authorization: basic('flapping', secret) })).status;
  t.is(await request(), 200);
  t.is((await instance!.admin('app', 'disable', 'flapping')).code, 0);
  t.is(await untilPropagated(request, (s) => s !== 200), 401);
  t.is((await instance!.admin('app', 'enable', 'flapping')).code, 0);
  t.is(await untilPropagated(request, (s) => s === 200), 200);
});

test.serial('app update reaches a running server within 2 seconds', async (t) => {
  const secret = await createApp(instance!, 'changing');
  const request = async (scope: string) => (await instance!.token({ grant_type: 'client_credentials', scope }, { authorization: basic('changing', secret) })).status;
  t.is(await request('admin'), 400);
  t.is((await instance!.admin('app', 'update', 'changing', '--scopes', 'read write admin')).code, 0);
  t.is(await untilPropagated(() => request('admin'), (s) => s === 200), 200);
});
