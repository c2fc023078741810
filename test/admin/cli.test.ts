import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../src/logger.ts';
import { prepare } from '../../src/prepare.ts';
import { parseSecret } from '../../src/secrets/format.ts';
import { runAdmin, tempDir, testConfig, type AdminRun } from '../helpers/instance.ts';

// Serial: every command opens its own Prisma client on the one SQLite file, and concurrent admin
// transactions on one file currently fail (see the report on src/admin: "Operation has timed out").
const dir = tempDir();
const config = testConfig(dir);
let kid: string;

test.before(async () => {
  await prepare(config, createLogger('silent'));
});
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Every application needs an audience; tests that are not about audiences get this one. */
const DEFAULT_AUDIENCE = 'https://api.example';
const withAudience = (argv: string[]) =>
  argv[0] === 'app' && argv[1] === 'create' && argv.length > 2 && !argv.includes('--audiences') ? ['app', 'create', '--audiences', DEFAULT_AUDIENCE, ...argv.slice(2)] : argv;
const admin = (...argv: string[]) => runAdmin(config, withAudience(argv));

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

async function ok(t: ExecutionContext, ...argv: string[]): Promise<AdminRun> {
  const run = await admin(...argv);
  t.is(run.code, 0, `${argv.join(' ')} → ${run.stderr}`);
  t.is(run.stderr, '');
  return run;
}

async function json<T = Record<string, unknown>>(t: ExecutionContext, ...argv: string[]): Promise<T> {
  return (await ok(t, ...argv, '--json')).json<T>();
}

/** A refusal: non-zero exit, nothing on stdout, exactly one `error: ...` line on stderr. */
async function refused(t: ExecutionContext, argv: string[], reason: RegExp): Promise<void> {
  const run = await admin(...argv);
  t.not(run.code, 0, `${argv.join(' ')} should fail`);
  t.is(run.stdout, '', argv.join(' '));
  t.regex(run.stderr, /^error: [^\n]+\n$/, argv.join(' '));
  t.regex(run.stderr, reason, argv.join(' '));
}

function assertSnakeCase(t: ExecutionContext, record: Record<string, unknown>) {
  for (const key of Object.keys(record)) t.regex(key, /^[a-z][a-z0-9_]*$/, key);
}

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
  created_at: string;
  client_secret?: string;
};

// ── app create ─────────────────────────────────────────────────────────────────────────────

test.serial('app create --secret --json prints the application and a tmcs_ client secret, in snake_case', async (t) => {
  const app = await json<AppView>(t, 'app', 'create', 'billing', '--secret', '--name', 'Billing service', '--scopes', 'read write', '--default-scopes', 'read', '--audiences', 'https://api.example,https://other.example', '--ttl', '300', '--policy-mode', 'any');
  assertSnakeCase(t, app);
  t.like(app, {
    client_id: 'billing',
    name: 'Billing service',
    has_secret: true,
    grant_types: ['client_credentials'],
    scopes: ['read', 'write'],
    default_scopes: ['read'],
    audiences: ['https://api.example', 'https://other.example'],
    default_audience: 'https://api.example',
    access_token_ttl: 300,
    policy_mode: 'any',
    enabled: true,
  });
  t.regex(app.client_secret!, /^tmcs_[a-z2-9]{16}_[A-Za-z0-9_-]{43}$/);
  t.is(parseSecret(app.client_secret!)?.kind, 'client-secret');
  t.false(Number.isNaN(Date.parse(app.created_at)));
  t.false(JSON.stringify(app).includes('$argon2'));
});

test.serial('app create without --secret has no secret and the defaults', async (t) => {
  const app = await json<AppView>(t, 'app', 'create', 'no-secret');
  t.is(app.client_secret, undefined);
  t.like(app, {
    client_id: 'no-secret',
    name: 'no-secret',
    has_secret: false,
    grant_types: ['client_credentials'],
    scopes: [],
    default_scopes: [],
    audiences: [DEFAULT_AUDIENCE],
    default_audience: DEFAULT_AUDIENCE,
    access_token_ttl: null,
    policy_mode: 'all',
    enabled: true,
  });
});

test.serial('app create without --json prints aligned fields and says the secret is shown once', async (t) => {
  const run = await ok(t, 'app', 'create', 'plain-output', '--secret');
  t.regex(run.stdout, /^client_id: +plain-output$/m);
  t.regex(run.stdout, /^client_secret: +tmcs_\S+$/m);
  t.regex(run.stdout, /shown once/);
});

const GRANTS: [string, string[]][] = [
  ['jwt-bearer', [JWT_BEARER]],
  ['token-exchange', [TOKEN_EXCHANGE]],
  ['client_credentials,jwt-bearer,token-exchange', ['client_credentials', JWT_BEARER, TOKEN_EXCHANGE]],
  [`${JWT_BEARER},jwt-bearer`, [JWT_BEARER]],
  [` client_credentials , ${TOKEN_EXCHANGE} `, ['client_credentials', TOKEN_EXCHANGE]],
];

for (const [i, [given, stored]] of GRANTS.entries()) {
  test.serial(`--grants ${JSON.stringify(given)} is stored as ${stored.join(', ')}`, async (t) => {
    const app = await json<AppView>(t, 'app', 'create', `grants-${i}`, '--grants', given);
    t.deepEqual(app.grant_types, stored);
  });
}

test.serial('an unknown grant type is refused and names the known ones', async (t) => {
  await refused(t, ['app', 'create', 'grants-bad', '--grants', 'client_credentials,password'], /unknown grant type "password".*jwt-bearer/);
  await refused(t, ['app', 'create', 'grants-bad', '--grants', 'authorization_code'], /unknown grant type/);
});

test.serial('a default scope that is not among the scopes is refused', async (t) => {
  await refused(t, ['app', 'create', 'scopes-bad', '--scopes', 'read', '--default-scopes', 'read write'], /default scope "write" is not among the application's scopes/);
  await refused(t, ['app', 'create', 'scopes-bad', '--default-scopes', 'read'], /default scope "read"/);
});

test.serial('a scope that is not an RFC 6749 scope token is refused', async (t) => {
  await refused(t, ['app', 'create', 'scopes-bad', '--scopes', 'read "quoted"'], /not a valid scope/);
  await refused(t, ['app', 'create', 'scopes-bad', '--scopes', 'back\\slash'], /not a valid scope/);
});

const BAD_CLIENT_IDS: [string, string][] = [
  ['with a space', 'has space'],
  ['starting with a dash', '-leading'],
  ['starting with a dot', '.hidden'],
  ['with a slash', 'a/b'],
  ['with a non-ASCII letter', 'café'],
  ['empty', ''],
  ['129 characters long', `a${'b'.repeat(128)}`],
];

for (const [name, clientId] of BAD_CLIENT_IDS) {
  test.serial(`a client_id ${name} is refused`, async (t) => {
    await refused(t, ['app', 'create', '--', clientId], /^error: client_id /);
  });
}

test.serial('a client_id of letters, digits and . _ : @ - up to 128 characters is accepted', async (t) => {
  await ok(t, 'app', 'create', 'svc:odd@x.example_1-2');
  await ok(t, 'app', 'create', `a${'b'.repeat(127)}`);
});

const BAD_TTLS: [string, RegExp][] = [
  ['abc', /--ttl must be a whole number of seconds/],
  ['1.5', /--ttl must be a whole number of seconds/],
  ['-60', /--ttl must be a whole number of seconds/],
  ['1e3', /--ttl must be a whole number of seconds/],
  ['29', /^error: ttl /],
  ['86401', /^error: ttl /],
];

for (const [ttl, reason] of BAD_TTLS) {
  test.serial(`--ttl ${ttl} is refused`, async (t) => {
    await refused(t, ['app', 'create', 'ttl-bad', '--ttl', ttl], reason);
  });
}

test.serial('--ttl at the bounds is accepted', async (t) => {
  t.is((await json<AppView>(t, 'app', 'create', 'ttl-min', '--ttl', '30')).access_token_ttl, 30);
  t.is((await json<AppView>(t, 'app', 'create', 'ttl-max', '--ttl', '86400')).access_token_ttl, 86_400);
});

test.serial('a bad policy mode or audience is refused', async (t) => {
  await refused(t, ['app', 'create', 'mode-bad', '--policy-mode', 'some'], /^error: policy mode /);
  await refused(t, ['app', 'create', 'aud-bad', '--audiences', 'https://ok.example,has space'], /^error: audience /);
});

test.serial('creating an application that exists is refused and changes nothing', async (t) => {
  const before = await json<AppView>(t, 'app', 'create', 'twice', '--scopes', 'a');
  await refused(t, ['app', 'create', 'twice', '--secret', '--scopes', 'b'], /twice is already a client_id or service-account username/);
  const after = await json<AppView>(t, 'app', 'show', 'twice');
  t.deepEqual(after, before);
});

test.serial('a refused create leaves no application behind', async (t) => {
  await refused(t, ['app', 'create', 'half-made', '--default-scopes', 'x'], /default scope/);
  await refused(t, ['app', 'show', 'half-made'], /no application "half-made"/);
});

// ── app list | show | rotate-secret | disable ──────────────────────────────────────────────

test.serial('app list --json lists every application, sorted, without secrets or hashes', async (t) => {
  await ok(t, 'app', 'create', 'list-b', '--secret');
  await ok(t, 'app', 'create', 'list-a');
  const apps = await json<AppView[]>(t, 'app', 'list');
  const ids = apps.map((a) => a.client_id);
  t.true(ids.includes('list-a') && ids.includes('list-b'));
  t.deepEqual(ids, [...ids].sort());
  t.true(apps.every((a) => a.client_secret === undefined));
  t.false(JSON.stringify(apps).includes('$argon2'));
  t.false(JSON.stringify(apps).includes('tmcs_'));
  t.is(apps.find((a) => a.client_id === 'list-b')?.has_secret, true);
});

test.serial('app list without --json prints a table with a header', async (t) => {
  const run = await ok(t, 'app', 'list');
  t.regex(run.stdout, /^CLIENT_ID +NAME +ENABLED +HAS_SECRET/);
  t.regex(run.stdout, /^list-a +list-a +true +false/m);
});

test.serial('app show prints one application; an unknown one is refused', async (t) => {
  await ok(t, 'app', 'create', 'shown', '--audiences', 'https://a.example,https://b.example');
  const app = await json<AppView>(t, 'app', 'show', 'shown');
  t.like(app, { client_id: 'shown', default_audience: 'https://a.example' });
  t.is(app.client_secret, undefined);
  await refused(t, ['app', 'show', 'nobody'], /no application "nobody"/);
});

test.serial('app rotate-secret prints a new secret, once; an unknown application is refused', async (t) => {
  const { client_secret: first } = await json<AppView>(t, 'app', 'create', 'rotating', '--secret');
  const rotated = await json<AppView>(t, 'app', 'rotate-secret', 'rotating');
  t.regex(rotated.client_secret!, /^tmcs_/);
  t.not(rotated.client_secret, first);
  t.not(parseSecret(rotated.client_secret!)?.id, parseSecret(first!)?.id);
  t.is(rotated.has_secret, true);
  t.is((await json<AppView>(t, 'app', 'show', 'rotating')).client_secret, undefined);
  await refused(t, ['app', 'rotate-secret', 'nobody'], /no application "nobody"/);
});

test.serial('app rotate-secret gives a secret to an application that had none', async (t) => {
  await ok(t, 'app', 'create', 'secretless');
  const rotated = await json<AppView>(t, 'app', 'rotate-secret', 'secretless');
  t.regex(rotated.client_secret!, /^tmcs_/);
  t.is((await json<AppView>(t, 'app', 'show', 'secretless')).has_secret, true);
});

test.serial('app disable turns the application off; an unknown application is refused', async (t) => {
  await ok(t, 'app', 'create', 'to-disable');
  t.is((await json<AppView>(t, 'app', 'disable', 'to-disable')).enabled, false);
  t.is((await json<AppView>(t, 'app', 'show', 'to-disable')).enabled, false);
  await refused(t, ['app', 'disable', 'nobody'], /no application "nobody"/);
});

// ── service accounts and app passwords ─────────────────────────────────────────────────────

type AccountView = {
  username: string;
  display_name: string;
  groups: string[];
  permissions: string[];
  enabled: boolean;
  client_id: string;
  app_password_id: string;
  app_password: string;
  expires_at: string | null;
};
type PasswordView = { id: string; status: string; description: string; expires_at: string | null; revoked_at: string | null };

test.serial('service-account create prints a tmap_ app password and its id, once', async (t) => {
  await ok(t, 'app', 'create', 'reports');
  const account = await json<AccountView>(t, 'service-account', 'create', 'nightly-job', '--app', 'reports', '--name', 'Nightly job', '--groups', 'etl, ops,etl', '--permissions', 'reports:read,reports:write');
  assertSnakeCase(t, account);
  t.like(account, {
    username: 'nightly-job',
    display_name: 'Nightly job',
    groups: ['etl', 'ops'],
    permissions: ['reports:read', 'reports:write'],
    enabled: true,
    client_id: 'reports',
    expires_at: null,
  });
  t.regex(account.app_password, /^tmap_[a-z2-9]{16}_[A-Za-z0-9_-]{43}$/);
  t.deepEqual(parseSecret(account.app_password), { kind: 'app-password', id: account.app_password_id });
  const [password] = await json<PasswordView[]>(t, 'app-password', 'list', 'nightly-job');
  t.like(password, { id: account.app_password_id, status: 'active' });
  t.false(JSON.stringify(password).includes('tmap_'));
});

test.serial('service-account create binds the account to --app', async (t) => {
  await ok(t, 'app', 'create', 'bound-app');
  await ok(t, 'app', 'create', 'other-app');
  await ok(t, 'service-account', 'create', 'bound-user', '--app', 'bound-app', '--json');
  const db = new Database(config.databaseFile, { readonly: true });
  try {
    const apps = db
      .prepare(
        `SELECT a.client_id FROM service_account_bindings b
         JOIN service_accounts s ON s.id = b.service_account_id JOIN applications a ON a.id = b.application_id
         WHERE s.username = ?`,
      )
      .pluck()
      .all('bound-user');
    t.deepEqual(apps, ['bound-app']);
  } finally {
    db.close();
  }
});

test.serial('service-account create with --expires sets the expiry of the first password', async (t) => {
  await ok(t, 'app', 'create', 'expiring-app');
  const before = Date.now();
  const account = await json<AccountView>(t, 'service-account', 'create', 'expiring-user', '--app', 'expiring-app', '--expires', '90d');
  const after = Date.now();
  const expires = Date.parse(account.expires_at!);
  const ninetyDays = 90 * 86_400_000;
  t.true(expires >= before + ninetyDays && expires <= after + ninetyDays, account.expires_at!);
  await refused(t, ['service-account', 'create', 'expiring-2', '--app', 'expiring-app', '--expires', '90x'], /--expires must be a duration/);
  await refused(t, ['service-account', 'create', 'expiring-2', '--app', 'expiring-app', '--expires', '0d'], /--expires must be a duration/);
});

test.serial('service-account create for an unknown --app is refused and creates nothing', async (t) => {
  await refused(t, ['service-account', 'create', 'orphan', '--app', 'no-such-app'], /no application "no-such-app"/);
  await refused(t, ['app-password', 'list', 'orphan'], /no service account "orphan"/);
});

test.serial('service-account create without --app is refused', async (t) => {
  await refused(t, ['service-account', 'create', 'appless'], /required option '--app/);
});

test.serial('a bad username, group or permission is refused', async (t) => {
  await ok(t, 'app', 'create', 'labels-app');
  await refused(t, ['service-account', 'create', 'bad user', '--app', 'labels-app'], /^error: username /);
  await refused(t, ['service-account', 'create', 'labels-user', '--app', 'labels-app', '--groups', 'a b'], /^error: group /);
  await refused(t, ['service-account', 'create', 'labels-user', '--app', 'labels-app', '--permissions', 'x y'], /^error: permission /);
});

test.serial('client_ids and usernames share one namespace', async (t) => {
  await ok(t, 'app', 'create', 'shared-name');
  await ok(t, 'app', 'create', 'ns-app');
  await refused(t, ['service-account', 'create', 'shared-name', '--app', 'ns-app'], /shared-name is already a client_id or service-account username/);
  await ok(t, 'service-account', 'create', 'ns-user', '--app', 'ns-app');
  await refused(t, ['app', 'create', 'ns-user'], /ns-user is already a client_id or service-account username/);
  await refused(t, ['service-account', 'create', 'ns-user', '--app', 'ns-app'], /ns-user is already/);
});

test.serial('app-password create issues another password; list shows both; revoke marks one revoked', async (t) => {
  await ok(t, 'app', 'create', 'rotation-app');
  const account = await json<AccountView>(t, 'service-account', 'create', 'rotation-user', '--app', 'rotation-app');
  const second = await json<{ id: string; username: string; app_password: string; expires_at: string | null }>(t, 'app-password', 'create', 'rotation-user', '--description', 'for the new deploy', '--expires', '30d');
  t.is(second.username, 'rotation-user');
  t.deepEqual(parseSecret(second.app_password), { kind: 'app-password', id: second.id });
  t.not(second.id, account.app_password_id);
  t.truthy(second.expires_at);

  let list = await json<PasswordView[]>(t, 'app-password', 'list', 'rotation-user');
  t.deepEqual(list.map((p) => [p.id, p.status]), [[account.app_password_id, 'active'], [second.id, 'active']]);
  t.is(list[1]!.description, 'for the new deploy');

  const revoked = await json<PasswordView>(t, 'app-password', 'revoke', account.app_password_id);
  t.like(revoked, { id: account.app_password_id, status: 'revoked' });
  t.truthy(revoked.revoked_at);

  list = await json<PasswordView[]>(t, 'app-password', 'list', 'rotation-user');
  t.deepEqual(list.map((p) => [p.id, p.status]), [[account.app_password_id, 'revoked'], [second.id, 'active']]);
});

test.serial('revoking an app password twice is refused', async (t) => {
  await ok(t, 'app', 'create', 'revoke-app');
  const account = await json<AccountView>(t, 'service-account', 'create', 'revoke-user', '--app', 'revoke-app');
  await ok(t, 'app-password', 'revoke', account.app_password_id);
  await refused(t, ['app-password', 'revoke', account.app_password_id], new RegExp(`app password ${account.app_password_id} is already revoked`));
});

test.serial('app-password commands for unknown accounts or ids are refused', async (t) => {
  await refused(t, ['app-password', 'create', 'nobody'], /no service account "nobody"/);
  await refused(t, ['app-password', 'list', 'nobody'], /no service account "nobody"/);
  await refused(t, ['app-password', 'revoke', 'abcdefghijkmnpqr'], /no app password "abcdefghijkmnpqr"/);
});

test.serial('app-password create refuses a bad --expires', async (t) => {
  await ok(t, 'app', 'create', 'exp-app');
  await ok(t, 'service-account', 'create', 'exp-user', '--app', 'exp-app');
  await refused(t, ['app-password', 'create', 'exp-user', '--expires', 'tomorrow'], /--expires must be a duration/);
});

// ── keys and audit ─────────────────────────────────────────────────────────────────────────

test.serial('keys list --json shows the one active signing key', async (t) => {
  const keys = await json<{ kid: string; alg: string; state: string; activated_at: string | null }[]>(t, 'keys', 'list');
  t.is(keys.length, 1);
  t.like(keys[0], { alg: 'RS256', state: 'active' });
  t.regex(keys[0]!.kid, /^[A-Za-z0-9_-]{43}$/);
  t.truthy(keys[0]!.activated_at);
  kid = keys[0]!.kid;
  const text = JSON.stringify(keys);
  for (const leak of ['private', '"d"', 'BEGIN', 'v1.']) t.false(text.includes(leak), leak);
});

test.serial('keys list without --json prints a table', async (t) => {
  const run = await ok(t, 'keys', 'list');
  t.regex(run.stdout, /^KID +ALG +STATE/);
  t.true(run.stdout.includes(kid));
});

type AuditView = { id: number; at: string; action: string; outcome: string; client_id: string | null; subject: string | null; details: Record<string, unknown> | null };

test.serial('audit list --json shows admin changes, newest first', async (t) => {
  await ok(t, 'app', 'create', 'audited', '--secret');
  await ok(t, 'app', 'rotate-secret', 'audited');
  await ok(t, 'app', 'disable', 'audited');
  await ok(t, 'service-account', 'create', 'audited-user', '--app', 'audited');
  const events = await json<AuditView[]>(t, 'audit', 'list', '--app', 'audited');
  t.deepEqual(events.map((e) => e.action), ['service_account.created', 'app.disabled', 'app.secret_rotated', 'app.created']);
  for (const event of events) {
    assertSnakeCase(t, event);
    t.like(event, { outcome: 'success', client_id: 'audited' });
    t.is(event.details?.actor, 'admin-cli');
  }
  t.is(events[0]!.subject, 'audited-user');
  t.like(events[3]!.details, { has_secret: true });
  const all = await json<AuditView[]>(t, 'audit', 'list');
  t.true(all.some((e) => e.action === 'app.created' && e.client_id === 'billing'));
  t.deepEqual(all.map((e) => e.id), [...all.map((e) => e.id)].sort((a, b) => b - a));
});

test.serial('audit list --limit and --since narrow the list; bad values are refused', async (t) => {
  t.is((await json<AuditView[]>(t, 'audit', 'list', '--limit', '2')).length, 2);
  t.true((await json<AuditView[]>(t, 'audit', 'list', '--since', '1h')).length > 2);
  await refused(t, ['audit', 'list', '--limit', '0'], /--limit must be a whole number/);
  await refused(t, ['audit', 'list', '--limit', 'ten'], /--limit must be a whole number/);
  await refused(t, ['audit', 'list', '--since', 'yesterday'], /--since must be a duration/);
});

test.serial('the audit log never holds a secret', async (t) => {
  const { client_secret } = await json<AppView>(t, 'app', 'create', 'audit-secret', '--secret');
  const events = await json<AuditView[]>(t, 'audit', 'list', '--limit', '100000');
  t.false(JSON.stringify(events).includes(client_secret!));
});

// ── command-line errors ────────────────────────────────────────────────────────────────────

const USAGE_ERRORS: [string, string[], RegExp][] = [
  ['an unknown command', ['bogus'], /unknown command 'bogus'/],
  ['an unknown subcommand', ['app', 'bogus'], /unknown command 'bogus'/],
  ['an unknown option', ['app', 'list', '--bogus'], /unknown option '--bogus'/],
  ['a missing argument', ['app', 'create'], /missing required argument 'client_id'/],
  ['a missing option value', ['app', 'create', 'x', '--ttl'], /option '--ttl <seconds>' argument missing/],
  ['an extra argument', ['app', 'list', 'extra'], /too many arguments/],
];

for (const [name, argv, reason] of USAGE_ERRORS) {
  test.serial(`${name} exits non-zero with one error line`, async (t) => {
    await refused(t, argv, reason);
  });
}

test.serial('app create without --audiences is refused: every token names its audience', async (t) => {
  const run = await runAdmin(config, ['app', 'create', 'no-audience', '--secret']);
  t.is(run.code, 1);
  t.regex(run.stderr, /^error: give at least one --audiences/);
  t.is(run.stdout, '');
});

test.serial('a command group without a subcommand exits non-zero and shows its usage', async (t) => {
  for (const argv of [['app'], []]) {
    const run = await runAdmin(config, argv);
    t.is(run.code, 1);
    t.is(run.stdout, '');
    t.regex(run.stderr, /^Usage: admin/);
  }
});

// ── secrets at rest ────────────────────────────────────────────────────────────────────────

function dumpDatabase(file: string): { text: string; hashes: string[] } {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    const rows = tables.flatMap((table) => db.prepare(`SELECT * FROM "${table.replace(/"/g, '""')}"`).all() as Record<string, unknown>[]);
    const hashes = [
      ...(db.prepare('SELECT secret_hash FROM applications WHERE secret_hash IS NOT NULL').pluck().all() as string[]),
      ...(db.prepare('SELECT hash FROM app_passwords').pluck().all() as string[]),
    ];
    const text = rows.map((row) => Object.values(row).map((v) => (Buffer.isBuffer(v) ? `${v.toString('utf8')} ${v.toString('base64')}` : String(v))).join('\u0000')).join('\n');
    return { text, hashes };
  } finally {
    db.close();
  }
}

test.serial('secrets are stored only as argon2id hashes: no column of any table holds a printed secret', async (t) => {
  const app = await json<AppView>(t, 'app', 'create', 'at-rest', '--secret');
  const rotated = await json<AppView>(t, 'app', 'rotate-secret', 'at-rest');
  const account = await json<AccountView>(t, 'service-account', 'create', 'at-rest-user', '--app', 'at-rest');
  const extra = await json<{ app_password: string }>(t, 'app-password', 'create', 'at-rest-user');
  const secrets = [app.client_secret!, rotated.client_secret!, account.app_password, extra.app_password];

  const { text, hashes } = dumpDatabase(config.databaseFile);
  t.true(text.includes('at-rest-user'), 'the dump reads the data');
  for (const secret of secrets) {
    t.false(text.includes(secret), `${secret.slice(0, 5)}… is stored in plain text`);
    // the 256 random bits must not be stored in any form that keeps them readable
    const random = secret.slice(-43);
    t.false(text.includes(random));
    t.false(text.includes(Buffer.from(random, 'base64url').toString('hex')));
    t.false(text.includes(Buffer.from(random, 'base64url').toString('base64')));
  }
  t.true(hashes.length >= 3);
  for (const hash of hashes) t.regex(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
});

test.serial('grant names that are Object.prototype members are refused', async (t) => {
  for (const name of ['__proto__', 'constructor', 'toString']) {
    const run = await admin('app', 'create', `proto-${name.replace(/_/g, '')}`, '--grants', name);
    t.is(run.code, 1);
    t.regex(run.stderr, /^error: unknown grant type/);
  }
});

test('a repeated list option adds up instead of keeping only its last value', async (t) => {
  const app = await json<{ audiences: string[]; scopes: string[]; grant_types: string[] }>(
    t,
    'app', 'create', 'repeated-lists',
    '--audiences', 'https://a.example', '--audiences', 'https://b.example,https://c.example',
    '--scopes', 'read', '--scopes', 'write audit',
    '--grants', 'client_credentials', '--grants', 'jwt-bearer',
  );
  t.deepEqual(app.audiences, ['https://a.example', 'https://b.example', 'https://c.example']);
  t.deepEqual(app.scopes, ['read', 'write', 'audit']);
  t.deepEqual(app.grant_types, ['client_credentials', JWT_BEARER]);
  const defaults = await json<{ grant_types: string[] }>(t, 'app', 'create', 'default-grants');
  t.deepEqual(defaults.grant_types, ['client_credentials'], 'a default is used when the option is absent, and replaced when given');
});

test('an option that takes one value is refused when given twice, never silently overridden', async (t) => {
  const run = await admin('app', 'create', 'ttl-twice', '--ttl', '60', '--ttl', '120');
  t.not(run.code, 0);
  t.regex(run.stderr, /--ttl may be given once/);
  const show = await admin('app', 'show', 'ttl-twice');
  t.is(show.code, 1, `nothing was created: ${show.stdout}${show.stderr}`);
});

test('a file given to the CLI is read up to 1 MiB: a device that never ends is refused at once, a pipe or a directory too', async (t) => {
  await refused(t, ['policy', 'test', 'whatever', '--jwt', '/dev/zero'], /\/dev\/zero is larger than 1024 KiB/);
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  await refused(t, ['policy', 'test', 'whatever', '--jwt', fifo], /cannot read .*pipe: not a regular file/);
  await refused(t, ['policy', 'test', 'whatever', '--jwt', dir], /cannot read .*: not a regular file/);
});
