import test from 'ava';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../src/logger.ts';
import { prepare } from '../../src/prepare.ts';
import { ExternalIssuer, issuerKey } from '../helpers/external-issuer.ts';
import { prepareDatabase, runAdmin, tempDir, testConfig } from '../helpers/instance.ts';
import { adminChecks } from '../helpers/admin-checks.ts';

// Serial: every command opens its own Prisma client on the one SQLite file.
const dir = tempDir();
const config = testConfig(dir);
const admin = (...argv: string[]) => runAdmin(config, argv);
const myIssuer = new ExternalIssuer('https://my.issuer');
const AUTHENTIK_EXAMPLE = 'request.context["oauth_jwt"]["iss"] == "https://my.issuer"';

test.before(async () => {
  await prepareDatabase(config);
  await prepare(config, createLogger('silent'));
  myIssuer.keys.push(await issuerKey('ES256'));
  for (const argv of [
    ['app', 'create', 'billing', '--scopes', 'read write', '--default-scopes', 'read', '--audiences', 'https://api.example'],
    ['app', 'create', 'reports', '--audiences', 'https://api.example'],
    ['app', 'create', 'builds', '--grants', 'jwt-bearer', '--scopes', 'deploy', '--default-scopes', 'deploy', '--audiences', 'https://api.example'],
    ['service-account', 'create', 'robot', '--app', 'billing', '--groups', 'ops,etl', '--permissions', 'reports:read'],
  ]) {
    const run = await admin(...argv);
    if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
  }
});
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const { ok, json, refused } = adminChecks<PolicyView>(admin);

type PolicyView = {
  name: string;
  kind: string;
  enabled: boolean;
  applications: string[];
  description: string;
  expression: string;
  created_at: string;
  updated_at: string;
};
type TestView = { policy: string; kind: string; client_id: string; decision: 'allow' | 'deny'; reason: string | null; claims: Record<string, unknown> | null };
type AuditView = { action: string; outcome: string; details: Record<string, unknown> | null };

const VIEW_KEYS = ['applications', 'created_at', 'description', 'enabled', 'expression', 'kind', 'name', 'updated_at'];
const exists = async (name: string) => (await admin('policy', 'show', name)).code === 0;

let files = 0;
function writeFile(text: string): string {
  const path = join(dir, `input-${++files}`);
  writeFileSync(path, text);
  return path;
}
const jwtFile = async (claims: Record<string, unknown> = {}) => writeFile(await myIssuer.sign(claims));

// ── policy add ─────────────────────────────────────────────────────────────────────────────

test.serial('policy add --json prints the policy: an allow policy by default, enabled, bound to its applications', async (t) => {
  const policy = await json(t, 'policy', 'add', 'readers', '--app', 'billing', '--app', 'reports', '--expression', '"read" in request.context.oauth_scopes', '--description', 'only readers');
  t.deepEqual(Object.keys(policy).sort(), VIEW_KEYS);
  t.like(policy, { name: 'readers', kind: 'allow', enabled: true, description: 'only readers', expression: '"read" in request.context.oauth_scopes' });
  t.deepEqual([...policy.applications].sort(), ['billing', 'reports']);
  t.false(Number.isNaN(Date.parse(policy.created_at)));
  t.false(Number.isNaN(Date.parse(policy.updated_at)));
});

test.serial('policy add --kind claims adds a claims policy; --kind allow is the default spelled out', async (t) => {
  t.like(await json(t, 'policy', 'add', 'team-claim', '--kind', 'claims', '--app', 'billing', '--expression', '{"team": "platform"}'), { kind: 'claims', description: '' });
  t.like(await json(t, 'policy', 'add', 'explicit-allow', '--kind', 'allow', '--app', 'reports', '--expression', 'true'), { kind: 'allow' });
  await refused(t, ['policy', 'add', 'odd-kind', '--kind', 'deny', '--app', 'billing', '--expression', 'true'], '--kind must be allow or claims');
  t.false(await exists('odd-kind'));
});

test.serial("policy add accepts authentik's example as written and with a leading return", async (t) => {
  t.like(await json(t, 'policy', 'add', 'authentik', '--app', 'builds', '--expression', AUTHENTIK_EXAMPLE), { expression: AUTHENTIK_EXAMPLE });
  t.like(await json(t, 'policy', 'add', 'authentik-return', '--app', 'builds', '--expression', `return ${AUTHENTIK_EXAMPLE}`), { expression: `return ${AUTHENTIK_EXAMPLE}` });
});

test.serial("a syntax or type error is refused with the parser's message and its line and column", async (t) => {
  await refused(t, ['policy', 'add', 'broken', '--app', 'billing', '--expression', '1 +'], 'the expression is refused: Unexpected token: EOF (line 1, column 4)');
  await refused(t, ['policy', 'add', 'broken', '--app', 'billing', '--expression', 'request.context.oauth_scopes.exists(s, s == )'], 'the expression is refused: Unexpected token: RPAREN (line 1, column 45)');
  await refused(t, ['policy', 'add', 'broken', '--app', 'billing', '--expression', 'true && requst.ip == "10.0.0.1"'], 'the expression is refused: Unknown variable: requst (line 1, column 9)');
  // the error is still one line when the expression is not
  await refused(t, ['policy', 'add', 'broken', '--app', 'billing', '--expression', 'true &&\n  requst.ip == "x"'], 'the expression is refused: Unknown variable: requst (line 2, column 3)');
  await refused(t, ['policy', 'add', 'broken', '--app', 'billing', '--expression', '"a" + 1 == "a1"'], /^error: the expression is refused: no such overload: string \+ int \(line 1, column \d+\)\n$/);
  t.false(await exists('broken'));
});

test.serial('an expression returning the wrong type for its kind is refused', async (t) => {
  await refused(t, ['policy', 'add', 'wrong', '--app', 'billing', '--expression', '1 + 2'], /must return a bool, and this expression returns int/);
  await refused(t, ['policy', 'add', 'wrong', '--app', 'billing', '--kind', 'claims', '--expression', 'true'], /must return a map, and this expression returns bool/);
  t.false(await exists('wrong'));
});

test.serial('a claims policy setting a protected claim by name is refused at add', async (t) => {
  for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'src_iss']) {
    await refused(t, ['policy', 'add', 'forge', '--app', 'billing', '--kind', 'claims', '--expression', `{"team": "x", "${claim}": "forged"}`], `the expression is refused: claim ${claim} is protected: a policy cannot set it`);
  }
  t.false(await exists('forge'));
});

test.serial('a matches() pattern that backtracks catastrophically is refused at add', async (t) => {
  for (const pattern of ['^(a+)+$', '(a|aa)*', '(a*)*']) {
    await refused(t, ['policy', 'add', 'redos', '--app', 'billing', '--expression', `client.client_id.matches("${pattern}")`], 'the expression is refused: matches() patterns may not repeat a group that itself repeats or alternates');
  }
  await refused(t, ['policy', 'add', 'redos', '--app', 'billing', '--expression', 'client.client_id.matches("(a)\\\\1")'], /backreferences or lookaround/);
  await refused(t, ['policy', 'add', 'redos', '--app', 'billing', '--expression', 'client.client_id.matches(client.name)'], /matches\(\) takes a string literal pattern/);
  t.false(await exists('redos'));
  t.like(await json(t, 'policy', 'add', 'safe-pattern', '--app', 'reports', '--expression', 'client.client_id.matches("^[a-z]+$")'), { name: 'safe-pattern' });
});

test.serial('comprehensions nested more than three deep are refused at add', async (t) => {
  const s = 'request.context.oauth_scopes';
  await refused(t, ['policy', 'add', 'deep', '--app', 'billing', '--expression', `${s}.all(a, ${s}.all(b, ${s}.all(c, ${s}.exists(d, d == a))))`], /may nest 3 deep at most/);
  t.false(await exists('deep'));
});

test.serial('policy add refuses an unknown application, a duplicate name, no --app, no --expression and a bad name', async (t) => {
  await refused(t, ['policy', 'add', 'orphan', '--app', 'billing', '--app', 'ghost', '--expression', 'true'], 'no application "ghost"');
  // nothing of it was kept, not even the binding to the application that exists
  t.false(await exists('orphan'));
  await refused(t, ['policy', 'add', 'readers', '--app', 'billing', '--expression', 'true'], 'a policy named readers exists already');
  t.like(await json(t, 'policy', 'show', 'readers'), { expression: '"read" in request.context.oauth_scopes' });
  await refused(t, ['policy', 'add', 'unbound', '--expression', 'true'], /give at least one --app/);
  await refused(t, ['policy', 'add', 'unbound', '--app', 'billing'], /required option '--expression <cel>' not specified/);
  await refused(t, ['policy', 'add', 'bad name', '--app', 'billing', '--expression', 'true'], /name "bad name" must be/);
  await refused(t, ['policy', 'add', 'empty', '--app', 'billing', '--expression', '  '], 'the expression is refused: the expression is empty');
  t.false(await exists('unbound'));
});

// ── policy list and show ───────────────────────────────────────────────────────────────────

test.serial('policy list --json lists every policy by name, with the same keys as show', async (t) => {
  const policies = await json<PolicyView[]>(t, 'policy', 'list');
  const names = policies.map((p) => p.name);
  t.deepEqual(names, [...names].sort());
  for (const name of ['readers', 'team-claim', 'authentik', 'authentik-return']) t.true(names.includes(name), name);
  for (const policy of policies) t.deepEqual(Object.keys(policy).sort(), VIEW_KEYS);
  t.deepEqual(policies.find((p) => p.name === 'team-claim'), await json(t, 'policy', 'show', 'team-claim'));
});

test.serial('policy list without --json prints a table of name, kind, enabled, applications and expression', async (t) => {
  const run = await ok(t, 'policy', 'list');
  t.regex(run.stdout, /^NAME +KIND +ENABLED +APPLICATIONS +EXPRESSION\n/);
  t.regex(run.stdout, /^team-claim +claims +true +billing +\{"team": "platform"\}$/m);
});

test.serial('policy show prints one policy; an unknown one is refused', async (t) => {
  const run = await ok(t, 'policy', 'show', 'readers');
  t.regex(run.stdout, /^name: +readers$/m);
  t.regex(run.stdout, /^description: +only readers$/m);
  t.regex(run.stdout, /^expression: +"read" in request.context.oauth_scopes$/m);
  await refused(t, ['policy', 'show', 'nope'], 'no policy "nope"');
});

// ── policy update ──────────────────────────────────────────────────────────────────────────

test.serial('policy update --expression checks the new expression first and keeps the old one on refusal', async (t) => {
  await json(t, 'policy', 'add', 'changing', '--app', 'billing', '--expression', 'true');
  await refused(t, ['policy', 'update', 'changing', '--expression', '1 +'], 'the expression is refused: Unexpected token: EOF (line 1, column 4)');
  await refused(t, ['policy', 'update', 'changing', '--expression', '{"a": 1}'], /must return a bool/);
  t.like(await json(t, 'policy', 'show', 'changing'), { expression: 'true' });
  t.like(await json(t, 'policy', 'update', 'changing', '--expression', '"write" in request.context.oauth_scopes'), { expression: '"write" in request.context.oauth_scopes', kind: 'allow' });
  t.like(await json(t, 'policy', 'show', 'changing'), { expression: '"write" in request.context.oauth_scopes' });
});

test.serial('policy update --expression of a claims policy is checked as a claims policy', async (t) => {
  await refused(t, ['policy', 'update', 'team-claim', '--expression', 'true'], /must return a map/);
  await refused(t, ['policy', 'update', 'team-claim', '--expression', '{"sub": "forged"}'], /claim sub is protected/);
  t.like(await json(t, 'policy', 'update', 'team-claim', '--expression', '{"team": "data"}'), { expression: '{"team": "data"}', kind: 'claims' });
});

test.serial('policy update --description, --disable and --enable', async (t) => {
  t.like(await json(t, 'policy', 'update', 'changing', '--description', 'writers only'), { description: 'writers only', enabled: true });
  t.like(await json(t, 'policy', 'update', 'changing', '--disable'), { enabled: false, description: 'writers only' });
  t.like(await json(t, 'policy', 'show', 'changing'), { enabled: false });
  t.like(await json(t, 'policy', 'update', 'changing', '--enable'), { enabled: true });
  await refused(t, ['policy', 'update', 'changing', '--enable', '--disable'], 'give --enable or --disable, not both');
});

test.serial('policy update --app binds and --remove-app unbinds', async (t) => {
  t.deepEqual((await json(t, 'policy', 'update', 'changing', '--app', 'reports')).applications.sort(), ['billing', 'reports']);
  // binding again is not an error and changes nothing
  t.deepEqual((await json(t, 'policy', 'update', 'changing', '--app', 'reports')).applications.sort(), ['billing', 'reports']);
  t.deepEqual((await json(t, 'policy', 'update', 'changing', '--remove-app', 'billing')).applications, ['reports']);
  await refused(t, ['policy', 'update', 'changing', '--remove-app', 'billing'], 'policy changing is not bound to "billing"');
  await refused(t, ['policy', 'update', 'changing', '--app', 'ghost'], 'no application "ghost"');
  t.deepEqual((await json(t, 'policy', 'show', 'changing')).applications, ['reports']);
});

test.serial('a refused policy update changes nothing, not even the parts that were fine', async (t) => {
  await refused(t, ['policy', 'update', 'changing', '--description', 'half done', '--disable', '--app', 'ghost'], 'no application "ghost"');
  t.like(await json(t, 'policy', 'show', 'changing'), { description: 'writers only', enabled: true, applications: ['reports'] });
});

test.serial('policy update with nothing to change, or of an unknown policy, is refused', async (t) => {
  await refused(t, ['policy', 'update', 'changing'], 'nothing to change');
  await refused(t, ['policy', 'update', 'nope', '--disable'], 'no policy "nope"');
  await refused(t, ['policy', 'update', 'nope', '--expression', 'true'], 'no policy "nope"');
});

// ── policy remove ──────────────────────────────────────────────────────────────────────────

test.serial('policy remove deletes the policy and prints what it was; a second remove is refused', async (t) => {
  await json(t, 'policy', 'add', 'doomed', '--app', 'billing', '--app', 'reports', '--expression', 'true');
  const removed = await json(t, 'policy', 'remove', 'doomed', '--force');
  t.like(removed, { name: 'doomed', expression: 'true' });
  t.false(await exists('doomed'));
  t.false((await json<PolicyView[]>(t, 'policy', 'list')).some((p) => p.name === 'doomed'));
  await refused(t, ['policy', 'remove', 'doomed', '--force'], 'no policy "doomed"');
  // the name is free again
  await json(t, 'policy', 'add', 'doomed', '--app', 'reports', '--expression', 'false');
  await json(t, 'policy', 'remove', 'doomed', '--force');
});

// ── policy test ────────────────────────────────────────────────────────────────────────────

test.serial('policy test --jwt evaluates against the claims in the file and prints the decision', async (t) => {
  const allowed = await json<TestView>(t, 'policy', 'test', 'authentik', '--jwt', await jwtFile());
  t.deepEqual(allowed, { policy: 'authentik', kind: 'allow', client_id: 'builds', decision: 'allow', reason: null, claims: {} });
  const denied = await json<TestView>(t, 'policy', 'test', 'authentik', '--jwt', await jwtFile({ iss: 'https://other.issuer' }));
  t.like(denied, { decision: 'deny', reason: 'returned false', claims: null });
  t.like(await json<TestView>(t, 'policy', 'test', 'authentik-return', '--jwt', await jwtFile()), { decision: 'allow' });
});

test.serial('policy test without --json prints decision, reason and claims as fields', async (t) => {
  const denied = await ok(t, 'policy', 'test', 'authentik', '--jwt', await jwtFile({ iss: 'https://other.issuer' }));
  t.regex(denied.stdout, /^decision: +deny$/m);
  t.regex(denied.stdout, /^reason: +returned false$/m);
  const claims = await ok(t, 'policy', 'test', 'team-claim');
  t.regex(claims.stdout, /^decision: +allow$/m);
  t.regex(claims.stdout, /^claims: +\{"team":"data"\}$/m);
});

test.serial('policy test of a claims policy maps JWT claims and prints them', async (t) => {
  await json(t, 'policy', 'add', 'repo-claims', '--kind', 'claims', '--app', 'builds', '--expression', '{"repository": request.context.oauth_jwt.repository, "n": size(request.context.oauth_jwt.roles)}');
  const result = await json<TestView>(t, 'policy', 'test', 'repo-claims', '--jwt', await jwtFile({ repository: 'acme/app', roles: ['a', 'b'] }));
  t.deepEqual(result, { policy: 'repo-claims', kind: 'claims', client_id: 'builds', decision: 'allow', reason: null, claims: { repository: 'acme/app', n: 2 } });
  // a JWT without the claim: the error is the reason
  const failed = await json<TestView>(t, 'policy', 'test', 'repo-claims', '--jwt', await jwtFile({ roles: [] }));
  t.like(failed, { decision: 'deny', claims: null });
  t.regex(failed.reason ?? '', /repository/);
});

test.serial('policy test without --jwt sees no input JWT: the authentik example then fails and denies', async (t) => {
  const result = await json<TestView>(t, 'policy', 'test', 'authentik');
  t.like(result, { decision: 'deny' });
  t.regex(result.reason ?? '', /iss/);
});

test.serial('policy test --username evaluates with that service account as the caller', async (t) => {
  await json(t, 'policy', 'add', 'ops-only', '--app', 'billing', '--expression', 'service_account != null && "ops" in service_account.groups');
  await json(t, 'policy', 'add', 'sa-claims', '--kind', 'claims', '--app', 'billing', '--expression', '{"permissions": service_account.groups.map(g, "group:" + g)}');
  t.like(await json<TestView>(t, 'policy', 'test', 'ops-only', '--username', 'robot'), { decision: 'allow', client_id: 'billing' });
  t.like(await json<TestView>(t, 'policy', 'test', 'ops-only'), { decision: 'deny', reason: 'returned false' });
  t.deepEqual((await json<TestView>(t, 'policy', 'test', 'sa-claims', '--username', 'robot')).claims, { permissions: ['group:ops', 'group:etl'] });
  await refused(t, ['policy', 'test', 'ops-only', '--username', 'nobody'], 'no service account "nobody"');
});

test.serial('policy test --app picks the application, by default the first one the policy lists', async (t) => {
  const { applications } = await json(t, 'policy', 'add', 'which-app', '--app', 'reports', '--app', 'billing', '--expression', 'client.client_id == "billing"');
  t.like(await json<TestView>(t, 'policy', 'test', 'which-app'), { client_id: applications[0] });
  t.like(await json<TestView>(t, 'policy', 'test', 'which-app', '--app', 'reports'), { client_id: 'reports', decision: 'deny' });
  t.like(await json<TestView>(t, 'policy', 'test', 'which-app', '--app', 'billing'), { client_id: 'billing', decision: 'allow' });
  // any application may be named, bound or not
  t.like(await json<TestView>(t, 'policy', 'test', 'which-app', '--app', 'builds'), { client_id: 'builds', decision: 'deny' });
  await refused(t, ['policy', 'test', 'which-app', '--app', 'ghost'], 'no application "ghost"');
});

test.serial('policy test --ip and --scopes set what request.ip and oauth_scopes hold', async (t) => {
  await json(t, 'policy', 'add', 'office', '--app', 'billing', '--expression', 'ip_in(request.ip, "10.0.0.0/8") || ip_in(request.ip, "2001:db8::/32")');
  t.like(await json<TestView>(t, 'policy', 'test', 'office'), { decision: 'deny' });
  t.like(await json<TestView>(t, 'policy', 'test', 'office', '--ip', '10.1.2.3'), { decision: 'allow' });
  t.like(await json<TestView>(t, 'policy', 'test', 'office', '--ip', '2001:db8::5'), { decision: 'allow' });
  t.like(await json<TestView>(t, 'policy', 'test', 'office', '--ip', '192.168.1.1'), { decision: 'deny' });
  // billing's default scope is read
  t.like(await json<TestView>(t, 'policy', 'test', 'readers', '--app', 'billing'), { decision: 'allow' });
  t.like(await json<TestView>(t, 'policy', 'test', 'readers', '--app', 'billing', '--scopes', 'write'), { decision: 'deny' });
  t.like(await json<TestView>(t, 'policy', 'test', 'readers', '--app', 'billing', '--scopes', 'write read'), { decision: 'allow' });
});

test.serial('policy test reports a protected claim computed at request time as a denial', async (t) => {
  await json(t, 'policy', 'add', 'computed-sub', '--kind', 'claims', '--app', 'billing', '--expression', '{client.client_id == "billing" ? "sub" : "team": "x"}');
  t.like(await json<TestView>(t, 'policy', 'test', 'computed-sub'), { decision: 'deny', reason: 'claim sub is protected', claims: null });
  t.like(await json<TestView>(t, 'policy', 'test', 'computed-sub', '--app', 'reports'), { decision: 'allow', claims: { team: 'x' } });
});

test.serial('policy test refuses an unreadable file, a file without a JWT, an unknown policy and a policy bound to nothing', async (t) => {
  await refused(t, ['policy', 'test', 'authentik', '--jwt', join(dir, 'missing.jwt')], /^error: cannot read .*missing\.jwt\n$/);
  await refused(t, ['policy', 'test', 'authentik', '--jwt', writeFile('not a jwt')], /does not hold a JWT/);
  await refused(t, ['policy', 'test', 'nope'], 'no policy "nope"');
  await json(t, 'policy', 'add', 'loose', '--app', 'reports', '--expression', 'true');
  await json(t, 'policy', 'update', 'loose', '--remove-app', 'reports');
  await refused(t, ['policy', 'test', 'loose'], /bound to no application: give --app/);
  t.like(await json<TestView>(t, 'policy', 'test', 'loose', '--app', 'reports'), { decision: 'allow' });
});

test.serial('policy test never issues a token', async (t) => {
  for (const argv of [
    ['policy', 'test', 'authentik', '--jwt', await jwtFile()],
    ['policy', 'test', 'ops-only', '--username', 'robot'],
    ['policy', 'test', 'team-claim'],
  ]) {
    const run = await ok(t, ...argv, '--json');
    t.false('access_token' in run.json(), argv.join(' '));
  }
  const events = await json<AuditView[]>(t, 'audit', 'list', '--limit', '100000');
  t.false(events.some((e) => e.action.startsWith('token.')), JSON.stringify(events.filter((e) => e.action.startsWith('token.'))));
});

// ── audit ──────────────────────────────────────────────────────────────────────────────────

test.serial('policy add, update and remove write policy.added, policy.updated and policy.removed audit events', async (t) => {
  await json(t, 'policy', 'add', 'audited', '--kind', 'claims', '--app', 'billing', '--app', 'reports', '--expression', '{"team": "a"}');
  await json(t, 'policy', 'update', 'audited', '--disable');
  await json(t, 'policy', 'update', 'audited', '--description', 'now described', '--remove-app', 'reports');
  await json(t, 'policy', 'remove', 'audited', '--force');
  const events = (await json<AuditView[]>(t, 'audit', 'list', '--limit', '100000')).filter((e) => e.details?.name === 'audited');
  t.deepEqual(events.map((e) => e.action), ['policy.removed', 'policy.updated', 'policy.updated', 'policy.added']);
  for (const event of events) t.like(event, { outcome: 'success', details: { actor: 'admin-cli', name: 'audited' } });
  t.like(events[3]!.details, { kind: 'claims', applications: ['billing', 'reports'] });
  t.deepEqual(events[2]!.details?.changed, ['enabled']);
  t.deepEqual(events[1]!.details?.changed, ['description', 'unbind']);
});

test.serial('a refused policy change writes no audit event', async (t) => {
  const before = (await json<AuditView[]>(t, 'audit', 'list', '--limit', '100000')).length;
  await refused(t, ['policy', 'add', 'never-added', '--app', 'billing', '--expression', '1 +'], /Unexpected token/);
  await refused(t, ['policy', 'add', 'never-added', '--app', 'ghost', '--expression', 'true'], 'no application "ghost"');
  await refused(t, ['policy', 'update', 'readers', '--app', 'ghost'], 'no application "ghost"');
  await refused(t, ['policy', 'remove', 'never-added'], 'no policy "never-added"');
  t.is((await json<AuditView[]>(t, 'audit', 'list', '--limit', '100000')).length, before);
});

test.serial('audit list --app shows the changes of the policies bound to that application, once per change', async (t) => {
  type Event = AuditView & { client_id: string | null };
  const named = async (clientId: string) => (await json<Event[]>(t, 'audit', 'list', '--app', clientId, '--limit', '100000')).filter((e) => e.details?.name === 'per-app');
  await json(t, 'policy', 'add', 'per-app', '--app', 'billing', '--app', 'reports', '--expression', 'true');
  await json(t, 'policy', 'update', 'per-app', '--description', 'both');
  await json(t, 'policy', 'update', 'per-app', '--remove-app', 'reports');
  await json(t, 'policy', 'update', 'per-app', '--app', 'builds');
  await json(t, 'policy', 'remove', 'per-app', '--force');
  t.deepEqual((await named('billing')).map((e) => e.action), ['policy.removed', 'policy.updated', 'policy.updated', 'policy.updated', 'policy.added']);
  // reports sees the changes up to and including its unbinding, builds those from its binding on
  t.deepEqual((await named('reports')).map((e) => e.action), ['policy.updated', 'policy.updated', 'policy.added']);
  t.deepEqual((await named('builds')).map((e) => e.action), ['policy.removed', 'policy.updated']);
  t.deepEqual(await named('nobody'), []);
  // one event per change, whichever applications it names
  const all = (await json<Event[]>(t, 'audit', 'list', '--limit', '100000')).filter((e) => e.details?.name === 'per-app');
  t.is(all.length, 5);
  t.deepEqual(all[0]!.details?.applications, ['billing', 'builds']);
  t.is(all[0]!.client_id, null);
  t.deepEqual(all[2]!.details?.applications, ['billing', 'reports']);
});

test.serial('audit list --app finds a policy change among many other events, within --limit and --since', async (t) => {
  await json(t, 'policy', 'add', 'needle', '--app', 'builds', '--app', 'reports', '--expression', 'true');
  for (let i = 0; i < 5; i++) await json(t, 'policy', 'update', 'readers', '--description', `noise ${i}`);
  const events = await json<AuditView[]>(t, 'audit', 'list', '--app', 'builds', '--limit', '1');
  t.is(events.length, 1);
  t.like(events[0], { action: 'policy.added', details: { name: 'needle' } });
  t.deepEqual(await json<AuditView[]>(t, 'audit', 'list', '--app', 'builds', '--since', '1h', '--limit', '1').then((e) => e.map((x) => x.details?.name)), ['needle']);
});

test.serial('policy remove refuses while the policy is bound, naming the applications; --force removes it', async (t) => {
  await json(t, 'policy', 'add', 'guarded', '--app', 'billing', '--app', 'reports', '--expression', 'true');
  await refused(t, ['policy', 'remove', 'guarded'], 'policy guarded is bound to applications billing, reports: give --force to remove it and its bindings');
  t.true(await exists('guarded'));
  await json(t, 'policy', 'update', 'guarded', '--remove-app', 'billing', '--remove-app', 'reports');
  t.like(await json(t, 'policy', 'remove', 'guarded'), { name: 'guarded', applications: [] });
  t.false(await exists('guarded'));
});

test.serial('policy add --help marks --app and --expression as required', async (t) => {
  const run = await admin('policy', 'add', '--help');
  t.is(run.code, 0);
  // descriptions wrap at 80 columns: join the continuation lines
  const help = run.stdout.replace(/\n {10,}/g, ' ');
  t.regex(help, /--expression <cel> +the CEL expression \(required\)$/m);
  t.regex(help, /--app <client_id> +bind to this application \(repeatable; evaluated after its other policies\) \(required\)$/m);
  t.regex(help, /--kind <kind> +allow .*\(default: "allow"\)$/m);
});
