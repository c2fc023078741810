// Moving an installation from SQLite to PostgreSQL with `copy-to`: everything an operator relies on
// carries over, and tokens issued before the move stay valid after it.
import test from 'ava';
import { rmSync } from 'node:fs';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { basic, runAdmin, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.ts';

const available = await postgresAvailable();
const pgTest = available ? test.serial : test.skip;
const KEK = Buffer.alloc(32, 0x2c).toString('base64');

let source: Instance;
let destination: Instance | undefined;
let database: TestDatabase;
const secrets: Record<string, string> = {};
let before = '';
let revoked = '';
let appPassword = '';

test.before(async () => {
  if (!available) return;
  database = await createTestDatabase('copy');
  source = await startInstance({ KEY_ENCRYPTION_KEY: KEK });
});

test.after.always(async () => {
  await destination?.close();
  await source?.serving.close().catch(() => {});
  if (source) rmSync(source.dir, { recursive: true, force: true });
  await database?.drop();
});

async function created(instance: Instance, ...argv: string[]): Promise<Record<string, string>> {
  const run = await instance.admin(...argv, '--json');
  if (run.code !== 0) throw new Error(run.stderr);
  return run.json<Record<string, string>>();
}

const token = async (instance: Instance, clientId: string) =>
  instance.token({ grant_type: 'client_credentials' }, { authorization: basic(clientId, secrets[clientId]!) });

pgTest('copy-to moves a SQLite installation into an empty PostgreSQL database, every row with its id', async (t) => {
  secrets.billing = (await created(source, 'app', 'create', 'billing', '--secret', '--scopes', 'read', '--audiences', 'https://api.example')).client_secret!;
  secrets['api-rs'] = (await created(source, 'app', 'create', 'api-rs', '--secret', '--audiences', 'https://api.example')).client_secret!;
  appPassword = (await created(source, 'service-account', 'create', 'nightly', '--app', 'billing', '--permissions', 'invoices:read')).app_password!;
  await created(source, 'policy', 'add', 'office-hours', '--app', 'billing', '--expression', 'true');
  before = ((await (await untilPropagated(() => token(source, 'billing'), (r) => r.status === 200)).json()) as { access_token: string }).access_token;
  revoked = ((await (await token(source, 'billing')).json()) as { access_token: string }).access_token;
  t.is((await source.admin('token', 'revoke', '--jti', String(decodeJwt(revoked).jti))).code, 0);
  // the operator stops the server, then copies
  await source.serving.close();
  const copy = await runAdmin(source.config, ['copy-to', database.url, '--json']);
  t.is(copy.code, 0, copy.stderr);
  const counts = copy.json<Record<string, number | string>>();
  t.like(counts, { applications: 2, service_accounts: 1, service_account_bindings: 1, app_passwords: 1, policies: 1, policy_bindings: 1, signing_keys: 1, token_revocations: 1 });
  t.true((counts.audit_events as number) >= 6);
  t.false(String(counts.database).includes('password'));
});

pgTest('nodes on the copy open the same signing keys: tokens issued before the move verify, secrets and app passwords work, revocations hold', async (t) => {
  destination = await startInstance({ DATABASE_URL: database.url, KEY_ENCRYPTION_KEY: KEK });
  const jwks = createLocalJWKSet((await (await fetch(`${destination.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet);
  await t.notThrowsAsync(jwtVerify(before, jwks, { issuer: TEST_ISSUER }));
  t.is((await token(destination, 'billing')).status, 200);
  const withPassword = await destination.token({ grant_type: 'client_credentials', client_id: 'billing', username: 'nightly', password: appPassword });
  t.is(withPassword.status, 200, await withPassword.clone().text());
  const introspect = (value: string) => destination!.post('/introspect', { token: value }, { authorization: basic('api-rs', secrets['api-rs']!) });
  t.like(await (await introspect(before)).json(), { active: true, client_id: 'billing' });
  t.like(await (await introspect(revoked)).json(), { active: false });
  // ids go on after the copied ones: new rows do not collide
  t.is((await destination.admin('app', 'create', 'after-move', '--audiences', 'https://api.example')).code, 0);
  const audit = await destination.admin('audit', 'list', '--app', 'billing', '--json');
  t.true(audit.json<unknown[]>().length >= 3);
});

pgTest('copy-to refuses a database that already holds tokenmint data, and a source that is not SQLite', async (t) => {
  const again = await runAdmin(source.config, ['copy-to', database.url]);
  t.is(again.code, 1);
  t.regex(again.stderr, /already holds tokenmint data/);
  const fromPostgres = await destination!.admin('copy-to', database.url);
  t.is(fromPostgres.code, 1);
  t.regex(fromPostgres.stderr, /copy-to copies a SQLite database/);
  const notPostgres = await runAdmin(source.config, ['copy-to', 'mysql://x@y/z']);
  t.regex(notPostgres.stderr, /copy-to needs a PostgreSQL URL/);
  // the URL the nodes will run with follows DATABASE_URL's rules
  const badSchema = await runAdmin(source.config, ['copy-to', `${database.url}${database.url.includes('?') ? '&' : '?'}schema=a-b`]);
  t.is(badSchema.code, 1);
  t.regex(badSchema.stderr, /schema= must be a plain identifier/);
  const withOptions = await runAdmin(source.config, ['copy-to', `${database.url}${database.url.includes('?') ? '&' : '?'}options=-c%20search_path%3Dother`]);
  t.is(withOptions.code, 1);
  t.regex(withOptions.stderr, /options= is not supported/);
  // nothing listens on port 1: the error names the server, never the password
  const unreachable = await runAdmin(source.config, ['copy-to', 'postgresql://tm:s3cret-pw@127.0.0.1:1/tokenmint']);
  t.is(unreachable.code, 1);
  t.regex(unreachable.stderr, /cannot reach postgresql:\/\/tm:\*\*\*@127\.0\.0\.1:1\/tokenmint/);
  t.false(unreachable.stderr.includes('s3cret-pw'));
});
