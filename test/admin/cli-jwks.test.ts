import test, { type ExecutionContext } from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, exportJWK } from 'jose';
import { ExternalIssuer, issuerKey } from '../helpers/external-issuer.ts';
import { prepareDatabase, runAdmin, startInstance, tempDir, testConfig, TEST_ISSUER, untilPropagated, type AdminRun } from '../helpers/instance.ts';

// Serial: every command opens its own Prisma client on the one SQLite file.
const dir = tempDir();
/** The test issuers listen on loopback over http: only allowed with JWKS_ALLOW_PRIVATE_NETWORKS. */
const config = testConfig(dir, { JWKS_ALLOW_PRIVATE_NETWORKS: 'true' });
/** The same database, with the default: private networks refused. */
const strictConfig = testConfig(dir);
const admin = (...argv: string[]) => runAdmin(config, argv);

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const issuers: ExternalIssuer[] = [];
async function externalIssuer(options: { alg?: string; issuer?: string } = {}): Promise<ExternalIssuer> {
  const external = await ExternalIssuer.start(options);
  issuers.push(external);
  return external;
}

test.before(async () => {
  await prepareDatabase(config);
  for (const argv of [
    ['app', 'create', 'builds', '--grants', 'jwt-bearer', '--scopes', 'deploy', '--audiences', 'https://api.example'],
    ['app', 'create', 'reports', '--audiences', 'https://api.example'],
  ]) {
    const run = await admin(...argv);
    if (run.code !== 0) throw new Error(run.stderr);
  }
});
test.after.always(async () => {
  await Promise.all(issuers.map((i) => i.close()));
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
function writeFile(text: string): string {
  const path = join(dir, `input-${++files}`);
  writeFileSync(path, text);
  return path;
}
const jsonFile = (value: unknown) => writeFile(JSON.stringify(value));

async function ok(t: ExecutionContext, argv: string[], run: (argv: string[]) => Promise<AdminRun> = (a) => admin(...a)): Promise<AdminRun> {
  const result = await run(argv);
  t.is(result.code, 0, `${argv.join(' ')} → ${result.stderr}`);
  t.is(result.stderr, '', argv.join(' '));
  return result;
}

async function json<T = SourceView>(t: ExecutionContext, ...argv: string[]): Promise<T> {
  return (await ok(t, [...argv, '--json'])).json<T>();
}

/** A refusal: non-zero exit, nothing on stdout, exactly one `error: ...` line on stderr. */
async function refused(t: ExecutionContext, argv: string[], reason: RegExp, run: (argv: string[]) => Promise<AdminRun> = (a) => admin(...a)): Promise<AdminRun> {
  const result = await run(argv);
  t.not(result.code, 0, `${argv.join(' ')} should fail`);
  t.is(result.stdout, '', argv.join(' '));
  t.regex(result.stderr, /^error: [^\n]+\n$/, argv.join(' '));
  t.regex(result.stderr, reason, argv.join(' '));
  return result;
}

const sources = async (t: ExecutionContext) => json<SourceView[]>(t, 'jwks', 'list');
const sourceNamed = async (t: ExecutionContext, name: string) => (await sources(t)).find((s) => s.name === name);

type SourceView = {
  name: string;
  kind: string;
  url: string | null;
  jwks_uri: string | null;
  issuer: string;
  audiences: string[];
  algorithms: string[];
  leeway: number;
  max_lifetime: number;
  replay: string;
  subject_prefix: string | null;
  applications: string[];
  keys: number;
  kids: string[];
  fetched_at: string | null;
  fresh_until: string | null;
  last_error: string | null;
  last_error_at: string | null;
  created_at: string;
};

const VIEW_KEYS = [
  'name', 'kind', 'url', 'jwks_uri', 'issuer', 'audiences', 'algorithms', 'leeway', 'max_lifetime', 'replay', 'subject_prefix',
  'applications', 'keys', 'kids', 'fetched_at', 'fresh_until', 'last_error', 'last_error_at', 'created_at',
];

// ── jwks add ───────────────────────────────────────────────────────────────────────────────

test.serial('jwks add --file stores a document source with the defaults and prints it in snake_case', async (t) => {
  const external = await externalIssuer();
  const view = await json(t, 'jwks', 'add', 'partner-doc', '--file', external.jwksFile(dir), '--issuer', 'https://partner.example', '--app', 'builds', '--app', 'reports');
  t.deepEqual(Object.keys(view).sort(), [...VIEW_KEYS].sort());
  t.like(view, {
    name: 'partner-doc',
    kind: 'document',
    url: null,
    jwks_uri: null,
    issuer: 'https://partner.example',
    audiences: ['(this issuer)'],
    algorithms: ['RS256', 'ES256'],
    leeway: 60,
    max_lifetime: 86_400,
    replay: 'allow',
    subject_prefix: null,
    applications: ['builds', 'reports'],
    keys: 1,
    kids: [external.keys[0]!.kid],
    last_error: null,
    last_error_at: null,
  });
  t.false(Number.isNaN(Date.parse(view.fetched_at!)));
  t.false(Number.isNaN(Date.parse(view.created_at)));
  // a document is never fetched: nothing on the server
  t.is(external.hitsOf('/jwks.json'), 0);
  t.deepEqual((await sourceNamed(t, 'partner-doc'))?.kids, [external.keys[0]!.kid]);
});

test.serial('jwks add --url fetches the JWKS now and keeps every given option', async (t) => {
  const external = await externalIssuer({ alg: 'ES256', issuer: 'https://kubernetes.default.svc' });
  const view = await json(
    t, 'jwks', 'add', 'cluster', '--url', external.jwksUrl, '--issuer', external.issuer, '--app', 'builds',
    '--audiences', 'https://tokens.example,https://other.example', '--algorithms', 'ES256', '--leeway', '30', '--max-lifetime', '600',
    '--replay', 'reject', '--subject-prefix', 'k8s:',
  );
  t.is(external.hitsOf('/jwks.json'), 1);
  t.like(view, {
    name: 'cluster',
    kind: 'url',
    url: external.jwksUrl,
    jwks_uri: null,
    issuer: 'https://kubernetes.default.svc',
    audiences: ['https://tokens.example', 'https://other.example'],
    algorithms: ['ES256'],
    leeway: 30,
    max_lifetime: 600,
    replay: 'reject',
    subject_prefix: 'k8s:',
    applications: ['builds'],
    keys: 1,
    kids: [external.keys[0]!.kid],
    last_error: null,
  });
  t.false(Number.isNaN(Date.parse(view.fetched_at!)));
  t.false(Number.isNaN(Date.parse(view.fresh_until!)));
});

test.serial('jwks add --discovery takes the issuer and jwks_uri from the discovery document', async (t) => {
  // the document lives at <issuer>/.well-known/openid-configuration, as OpenID Discovery has it
  const external = await externalIssuer();
  const view = await json(t, 'jwks', 'add', 'idp', '--discovery', external.discoveryUrl, '--app', 'reports');
  t.like(view, {
    name: 'idp',
    kind: 'discovery',
    url: external.discoveryUrl,
    jwks_uri: external.jwksUrl,
    issuer: external.issuer,
    keys: 1,
    kids: [external.keys[0]!.kid],
  });
  t.is(external.hitsOf('/.well-known/openid-configuration'), 1);
  t.is(external.hitsOf('/jwks.json'), 1);
});

test.serial('jwks add --discovery believes an issuer found elsewhere than under itself only when --issuer states it', async (t) => {
  const external = await externalIssuer({ issuer: 'https://idp.partner.example' });
  await refused(t, ['jwks', 'add', 'idp-elsewhere', '--discovery', external.discoveryUrl, '--app', 'reports'], /not where it was found/);
  t.is(await sourceNamed(t, 'idp-elsewhere'), undefined);
  const stated = await json(t, 'jwks', 'add', 'idp-stated', '--discovery', external.discoveryUrl, '--issuer', 'https://idp.partner.example', '--app', 'reports');
  t.is(stated.issuer, 'https://idp.partner.example');
});

test.serial('jwks add --discovery refuses a stated --issuer the discovery document does not name', async (t) => {
  const external = await externalIssuer({ issuer: 'https://idp.partner.example' });
  await refused(t, ['jwks', 'add', 'idp-other', '--discovery', external.discoveryUrl, '--issuer', 'https://elsewhere.example', '--app', 'reports'], /names issuer "https:\/\/idp\.partner\.example"/);
  t.is(external.hitsOf('/jwks.json'), 0);
  t.is(await sourceNamed(t, 'idp-other'), undefined);
});

test.serial('jwks add refuses a source whose issuer is this issuer, stated or discovered', async (t) => {
  const external = await externalIssuer({ issuer: TEST_ISSUER });
  await refused(t, ['jwks', 'add', 'self-doc', '--file', external.jwksFile(dir), '--issuer', TEST_ISSUER, '--app', 'reports'], /this issuer/);
  await refused(t, ['jwks', 'add', 'self-url', '--url', external.jwksUrl, '--issuer', TEST_ISSUER, '--app', 'reports'], /this issuer/);
  await refused(t, ['jwks', 'add', 'self-discovered', '--discovery', external.discoveryUrl, '--issuer', TEST_ISSUER, '--app', 'reports'], /this issuer/);
  await refused(t, ['jwks', 'add', 'self-found', '--discovery', external.discoveryUrl, '--app', 'reports'], /not where it was found/);
  const names = (await sources(t)).map((s) => s.name);
  t.false(names.some((n) => n.startsWith('self-')), names.join(','));
});

test.serial('jwks add refuses wrong option combinations, values and applications, and stores nothing', async (t) => {
  const external = await externalIssuer();
  const file = external.jwksFile(dir);
  const base = (name: string) => ['jwks', 'add', name, '--file', file, '--issuer', 'https://refused.example', '--app', 'reports'];
  const cases: [string[], RegExp][] = [
    [['jwks', 'add', 'bad-both', '--file', file, '--url', external.jwksUrl, '--issuer', 'https://refused.example', '--app', 'reports'], /exactly one of --url, --discovery or --file/],
    [['jwks', 'add', 'bad-three', '--file', file, '--url', external.jwksUrl, '--discovery', external.discoveryUrl, '--issuer', 'https://refused.example', '--app', 'reports'], /exactly one of --url, --discovery or --file/],
    [['jwks', 'add', 'bad-none', '--issuer', 'https://refused.example', '--app', 'reports'], /exactly one of --url, --discovery or --file/],
    [['jwks', 'add', 'bad-file-no-issuer', '--file', file, '--app', 'reports'], /--issuer is required/],
    [['jwks', 'add', 'bad-url-no-issuer', '--url', external.jwksUrl, '--app', 'reports'], /--issuer is required/],
    [['jwks', 'add', 'bad-no-app', '--file', file, '--issuer', 'https://refused.example'], /at least one --app/],
    [[...base('bad-unknown-app'), '--app', 'nope'], /no application "nope"/],
    [[...base('bad-alg-none'), '--algorithms', 'none'], /--algorithms: "none" is not allowed/],
    [[...base('bad-alg-hs256'), '--algorithms', 'RS256,HS256'], /--algorithms: "HS256" is not allowed/],
    [[...base('bad-alg-garbage'), '--algorithms', 'rot13'], /--algorithms: "rot13" is not allowed/],
    [[...base('bad-alg-empty'), '--algorithms', ','], /--algorithms must name at least one algorithm/],
    [[...base('bad-replay'), '--replay', 'sometimes'], /--replay must be reject or allow/],
    [[...base('bad-leeway-high'), '--leeway', '301'], /--leeway must be a whole number/],
    [[...base('bad-leeway-negative'), '--leeway=-1'], /--leeway must be a whole number/],
    [[...base('bad-leeway-text'), '--leeway', 'a minute'], /--leeway must be a whole number/],
    [[...base('bad-leeway-fraction'), '--leeway', '1.5'], /--leeway must be a whole number/],
    [[...base('bad-lifetime-low'), '--max-lifetime', '59'], /--max-lifetime must be a whole number/],
    [[...base('bad-lifetime-high'), '--max-lifetime', String(30 * 86_400 + 1)], /--max-lifetime must be a whole number/],
    [[...base('bad-lifetime-text'), '--max-lifetime', 'long'], /--max-lifetime must be a whole number/],
  ];
  for (const [argv, reason] of cases) await refused(t, argv, reason);
  // nothing was fetched either
  t.is(external.hitsOf('/jwks.json'), 0);
  const names = (await sources(t)).map((s) => s.name);
  t.false(names.some((n) => n.startsWith('bad-')), names.join(','));
});

test.serial('the range limits themselves are accepted', async (t) => {
  const external = await externalIssuer();
  const file = external.jwksFile(dir);
  const low = await json(t, 'jwks', 'add', 'limits-low', '--file', file, '--issuer', 'https://limits.example', '--app', 'reports', '--leeway', '0', '--max-lifetime', '60');
  t.like(low, { leeway: 0, max_lifetime: 60 });
  const high = await json(t, 'jwks', 'add', 'limits-high', '--file', file, '--issuer', 'https://limits.example', '--app', 'reports', '--leeway', '300', '--max-lifetime', String(30 * 86_400));
  t.like(high, { leeway: 300, max_lifetime: 30 * 86_400 });
});

test.serial('jwks add refuses a taken name and keeps the first source', async (t) => {
  const first = await externalIssuer();
  const second = await externalIssuer();
  await json(t, 'jwks', 'add', 'taken', '--file', first.jwksFile(dir), '--issuer', 'https://first.example', '--app', 'reports');
  await refused(t, ['jwks', 'add', 'taken', '--file', second.jwksFile(dir), '--issuer', 'https://second.example', '--app', 'builds'], /a JWKS source named taken exists already/);
  t.like(await sourceNamed(t, 'taken'), { issuer: 'https://first.example', kids: [first.keys[0]!.kid], applications: ['reports'] });
});

test.serial('jwks add refuses a JWKS that publishes a private key, and says so', async (t) => {
  const key = await issuerKey('RS256');
  const privateJwk = { ...(await exportJWK(key.privateKey)), kid: key.kid, alg: 'RS256', use: 'sig' };
  t.truthy(privateJwk.d);
  const other = await issuerKey('ES256');
  const file = jsonFile({ keys: [other.publicJwk, privateJwk] });
  await refused(t, ['jwks', 'add', 'leaky', '--file', file, '--issuer', 'https://leaky.example', '--app', 'reports'], /private/);

  // the same over a URL
  const external = await externalIssuer();
  external.jwksHandler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [privateJwk] }));
  await refused(t, ['jwks', 'add', 'leaky-url', '--url', external.jwksUrl, '--issuer', 'https://leaky.example', '--app', 'reports'], /private/);

  // a symmetric key is no better
  const symmetric = jsonFile({ keys: [other.publicJwk, { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', alg: 'HS256' }] });
  await refused(t, ['jwks', 'add', 'leaky-oct', '--file', symmetric, '--issuer', 'https://leaky.example', '--app', 'reports'], /symmetric/);
  const names = (await sources(t)).map((s) => s.name);
  t.false(names.some((n) => n.startsWith('leaky')), names.join(','));
});

test.serial('jwks add refuses a JWKS without a usable key for the allowed algorithms', async (t) => {
  const rsa = await issuerKey('RS256');
  const issuer = 'https://unusable.example';
  const cases: [string, unknown, string[]][] = [
    ['unusable-empty', { keys: [] }, []],
    ['unusable-alg', { keys: [rsa.publicJwk] }, ['--algorithms', 'ES256']],
    ['unusable-enc', { keys: [{ ...rsa.publicJwk, use: 'enc' }] }, []],
  ];
  for (const [name, document, extra] of cases) {
    await refused(t, ['jwks', 'add', name, '--file', jsonFile(document), '--issuer', issuer, '--app', 'reports', ...extra], /no public signature key for/);
  }
  // the RSA key itself is fine with the default algorithms
  t.is((await json(t, 'jwks', 'add', 'usable', '--file', jsonFile({ keys: [rsa.publicJwk] }), '--issuer', issuer, '--app', 'reports')).keys, 1);
  const names = (await sources(t)).map((s) => s.name);
  t.false(names.some((n) => n.startsWith('unusable-')), names.join(','));
});

test.serial('jwks add refuses a file that is not JSON, not a JWKS, or cannot be read', async (t) => {
  const issuer = ['--issuer', 'https://files.example', '--app', 'reports'];
  await refused(t, ['jwks', 'add', 'not-json', '--file', writeFile('-----BEGIN PUBLIC KEY-----\nnope\n'), ...issuer], /not JSON/);
  await refused(t, ['jwks', 'add', 'not-jwks', '--file', jsonFile({ kty: 'RSA' }), ...issuer], /"keys" array/);
  const missing = join(dir, 'missing.json');
  await refused(t, ['jwks', 'add', 'no-file', '--file', missing, ...issuer], new RegExp(`cannot read ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  await refused(t, ['jwks', 'add', 'a-directory', '--file', dir, ...issuer], /cannot read/);
});

test.serial('jwks add --url to a private network is refused without JWKS_ALLOW_PRIVATE_NETWORKS, before any request', async (t) => {
  const external = await externalIssuer();
  const strict = (argv: string[]) => runAdmin(strictConfig, argv);
  await refused(t, ['jwks', 'add', 'private-http', '--url', external.jwksUrl, '--issuer', 'https://private.example', '--app', 'reports'], /JWKS_ALLOW_PRIVATE_NETWORKS/, strict);
  await refused(t, ['jwks', 'add', 'private-https', '--url', external.jwksUrl.replace('http:', 'https:'), '--issuer', 'https://private.example', '--app', 'reports'], /loopback address.*JWKS_ALLOW_PRIVATE_NETWORKS/, strict);
  await refused(t, ['jwks', 'add', 'private-discovery', '--discovery', external.discoveryUrl, '--app', 'reports'], /JWKS_ALLOW_PRIVATE_NETWORKS/, strict);
  t.is(external.hits.size, 0, JSON.stringify([...external.hits]));
  const names = (await sources(t)).map((s) => s.name);
  t.false(names.some((n) => n.startsWith('private-')), names.join(','));
});

test.serial('jwks add --url does not follow a redirect', async (t) => {
  const target = await externalIssuer();
  const redirecting = await externalIssuer();
  redirecting.jwksHandler = (_req, res) => res.writeHead(302, { location: target.jwksUrl }).end();
  await refused(t, ['jwks', 'add', 'redirected', '--url', redirecting.jwksUrl, '--issuer', 'https://redirected.example', '--app', 'reports'], /redirects are not followed \(status 302\)/);
  t.is(redirecting.hitsOf('/jwks.json'), 1);
  t.is(target.hitsOf('/jwks.json'), 0);
  t.is(await sourceNamed(t, 'redirected'), undefined);
});

// ── jwks list ──────────────────────────────────────────────────────────────────────────────

test.serial('jwks list prints a table and, with --json, every source', async (t) => {
  const listed = await sources(t);
  for (const name of ['partner-doc', 'cluster', 'idp']) t.true(listed.some((s) => s.name === name), name);
  for (const source of listed) t.deepEqual(Object.keys(source).sort(), [...VIEW_KEYS].sort());
  t.like(listed.find((s) => s.name === 'cluster'), { kind: 'url', issuer: 'https://kubernetes.default.svc', applications: ['builds'], keys: 1 });

  const table = (await ok(t, ['jwks', 'list'])).stdout;
  const lines = table.trimEnd().split('\n');
  t.deepEqual(lines[0]!.split(/ +/), ['NAME', 'KIND', 'ISSUER', 'APPLICATIONS', 'KEYS', 'FETCHED_AT', 'LAST_ERROR']);
  t.is(lines.length, listed.length + 1);
  t.regex(table, /^partner-doc +document +https:\/\/partner\.example +builds,reports +1 +\S+ +-$/m);
  t.regex(table, /^cluster +url +https:\/\/kubernetes\.default\.svc +builds +1 +\S+ +-$/m);
});

// ── jwks refresh ───────────────────────────────────────────────────────────────────────────

test.serial('jwks refresh fetches a URL source again and picks up a rotated key', async (t) => {
  const external = await externalIssuer({ issuer: 'https://rotating.example' });
  const added = await json(t, 'jwks', 'add', 'rotating', '--url', external.jwksUrl, '--issuer', external.issuer, '--app', 'reports');
  t.is(external.hitsOf('/jwks.json'), 1);

  const again = await json(t, 'jwks', 'refresh', 'rotating');
  t.is(external.hitsOf('/jwks.json'), 2);
  t.true(Date.parse(again.fetched_at!) > Date.parse(added.fetched_at!), `${added.fetched_at} → ${again.fetched_at}`);
  t.deepEqual(again.kids, added.kids);

  const rotated = await external.rotate();
  const refreshed = await json(t, 'jwks', 'refresh', 'rotating');
  t.is(external.hitsOf('/jwks.json'), 3);
  t.deepEqual(refreshed.kids, [rotated.kid]);
  t.notDeepEqual(refreshed.kids, added.kids);
  t.deepEqual((await sourceNamed(t, 'rotating'))?.kids, [rotated.kid]);
});

test.serial('jwks refresh of a discovery source reads the discovery document again', async (t) => {
  const external = await externalIssuer();
  await json(t, 'jwks', 'add', 'discovered', '--discovery', external.discoveryUrl, '--app', 'reports');
  const rotated = await external.rotate();
  const refreshed = await json(t, 'jwks', 'refresh', 'discovered');
  t.is(external.hitsOf('/.well-known/openid-configuration'), 2);
  t.is(external.hitsOf('/jwks.json'), 2);
  t.like(refreshed, { issuer: external.issuer, jwks_uri: external.jwksUrl, kids: [rotated.kid] });
});

test.serial('jwks refresh against a failing server exits 1, keeps the previous keys and records the error', async (t) => {
  const external = await externalIssuer({ issuer: 'https://flaky.example' });
  const added = await json(t, 'jwks', 'add', 'flaky', '--url', external.jwksUrl, '--issuer', external.issuer, '--app', 'reports');
  external.jwksHandler = (_req, res) => res.writeHead(500).end('down');
  await external.rotate();

  const run = await refused(t, ['jwks', 'refresh', 'flaky'], /unexpected status 500/);
  t.is(run.code, 1);
  t.is(external.hitsOf('/jwks.json'), 2);
  const stored = await sourceNamed(t, 'flaky');
  t.truthy(stored);
  t.deepEqual(stored!.kids, added.kids);
  t.is(stored!.keys, 1);
  t.is(stored!.fetched_at, added.fetched_at);
  t.regex(stored!.last_error ?? '', /unexpected status 500/);
  t.false(Number.isNaN(Date.parse(stored!.last_error_at ?? '')));
  t.regex((await ok(t, ['jwks', 'list'])).stdout, /^flaky .*unexpected status 500/m);

  // once the server answers again, a refresh takes the new keys and clears the error
  external.jwksHandler = undefined;
  const recovered = await json(t, 'jwks', 'refresh', 'flaky');
  t.deepEqual(recovered.kids, [external.keys[0]!.kid]);
  t.is(recovered.last_error, null);
  t.is(recovered.last_error_at, null);
});

test.serial('jwks refresh of a document source needs --file and replaces the keys with it', async (t) => {
  const external = await externalIssuer();
  const added = await json(t, 'jwks', 'add', 'doc-refresh', '--file', external.jwksFile(dir), '--issuer', 'https://doc-refresh.example', '--app', 'reports');
  await refused(t, ['jwks', 'refresh', 'doc-refresh'], /give the new document with --file/);
  t.deepEqual((await sourceNamed(t, 'doc-refresh'))?.kids, added.kids);

  const first = await issuerKey('ES256');
  const second = await issuerKey('RS256');
  const refreshed = await json(t, 'jwks', 'refresh', 'doc-refresh', '--file', jsonFile({ keys: [first.publicJwk, second.publicJwk] }));
  t.like(refreshed, { kind: 'document', keys: 2, kids: [first.kid, second.kid] });
  t.deepEqual((await sourceNamed(t, 'doc-refresh'))?.kids, [first.kid, second.kid]);
  t.is(external.hits.size, 0);

  // a refused document leaves the keys as they were
  await refused(t, ['jwks', 'refresh', 'doc-refresh', '--file', writeFile('not json')], /not JSON/);
  await refused(t, ['jwks', 'refresh', 'doc-refresh', '--file', jsonFile({ keys: [{ ...(await exportJWK(first.privateKey)), kid: first.kid }] })], /private/);
  t.deepEqual((await sourceNamed(t, 'doc-refresh'))?.kids, [first.kid, second.kid]);
});

test.serial('jwks refresh --file is refused for a URL source, and an unknown source is refused', async (t) => {
  const external = await externalIssuer({ issuer: 'https://url-only.example' });
  await json(t, 'jwks', 'add', 'url-only', '--url', external.jwksUrl, '--issuer', external.issuer, '--app', 'reports');
  await refused(t, ['jwks', 'refresh', 'url-only', '--file', external.jwksFile(dir)], /--file applies only to document sources/);
  t.is(external.hitsOf('/jwks.json'), 1);
  await refused(t, ['jwks', 'refresh', 'never-added'], /no JWKS source "never-added"/);
});

// ── jwks remove and the audit log ──────────────────────────────────────────────────────────

test.serial('jwks remove forgets the source; removing it again fails', async (t) => {
  const external = await externalIssuer();
  await json(t, 'jwks', 'add', 'short-lived', '--file', external.jwksFile(dir), '--issuer', 'https://short-lived.example', '--app', 'reports');
  t.truthy(await sourceNamed(t, 'short-lived'));
  const removed = await json(t, 'jwks', 'remove', 'short-lived', '--force');
  t.like(removed, { name: 'short-lived', issuer: 'https://short-lived.example' });
  t.is(await sourceNamed(t, 'short-lived'), undefined);
  t.notRegex((await ok(t, ['jwks', 'list'])).stdout, /^short-lived /m);
  await refused(t, ['jwks', 'remove', 'short-lived'], /no JWKS source "short-lived"/);
  await refused(t, ['jwks', 'refresh', 'short-lived', '--file', external.jwksFile(dir)], /no JWKS source "short-lived"/);
});

test.serial('jwks remove refuses while the source is bound, naming the applications; --force removes it', async (t) => {
  const external = await externalIssuer();
  await json(t, 'jwks', 'add', 'guarded', '--file', external.jwksFile(dir), '--issuer', 'https://guarded.example', '--app', 'reports', '--app', 'builds');
  await refused(t, ['jwks', 'remove', 'guarded'], /^error: JWKS source guarded is bound to applications (reports, builds|builds, reports): give --force to remove it and its bindings\n$/);
  t.truthy(await sourceNamed(t, 'guarded'));
  await json(t, 'jwks', 'remove', 'guarded', '--force');
  t.is(await sourceNamed(t, 'guarded'), undefined);
});

test.serial('adding, refreshing and removing a source write jwks_source audit events', async (t) => {
  const external = await externalIssuer({ issuer: 'https://audited.example' });
  await json(t, 'jwks', 'add', 'audited', '--url', external.jwksUrl, '--issuer', external.issuer, '--app', 'builds', '--app', 'reports');
  await json(t, 'jwks', 'refresh', 'audited');
  await json(t, 'jwks', 'remove', 'audited', '--force');
  type Event = { action: string; outcome: string; details: Record<string, unknown> | null };
  const events = (await json<Event[]>(t, 'audit', 'list', '--limit', '100000')).filter((e) => e.details?.name === 'audited');
  t.deepEqual(events.map((e) => e.action), ['jwks_source.removed', 'jwks_source.refreshed', 'jwks_source.added']);
  t.like(events[2]!.details, { name: 'audited', kind: 'url', url: external.jwksUrl, issuer: 'https://audited.example', keys: 1, applications: ['builds', 'reports'] });
  t.like(events[1]!.details, { keys: 1 });
  t.like(events[0]!.details, { issuer: 'https://audited.example' });
  // refusals change nothing and are not recorded as changes
  const refusedNames = ['bad-unknown-app', 'leaky', 'redirected', 'self-doc'];
  const all = await json<Event[]>(t, 'audit', 'list', '--limit', '100000');
  t.false(all.some((e) => e.action.startsWith('jwks_source.') && refusedNames.includes(e.details?.name as string)));
});

// ── cert add: federated issuers ────────────────────────────────────────────────────────────

const publicPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();

test.serial('cert add --issuer --subject-prefix shows both; without them both are null', async (t) => {
  const federated = await json<Record<string, unknown>>(t, 'cert', 'add', 'partner-cert', '--file', writeFile(publicPem()), '--app', 'reports', '--issuer', 'https://partner.example', '--subject-prefix', 'partner:');
  t.like(federated, { name: 'partner-cert', issuer: 'https://partner.example', subject_prefix: 'partner:', applications: ['reports'] });
  const own = await json<Record<string, unknown>>(t, 'cert', 'add', 'own-cert', '--file', writeFile(publicPem()), '--app', 'reports');
  t.like(own, { issuer: null, subject_prefix: null });
  const listed = await json<Record<string, unknown>[]>(t, 'cert', 'list');
  t.like(listed.find((c) => c.name === 'partner-cert'), { issuer: 'https://partner.example', subject_prefix: 'partner:' });
});

test.serial('cert add refuses --subject-prefix without --issuer and an --issuer equal to this issuer', async (t) => {
  await refused(t, ['cert', 'add', 'prefix-only', '--file', writeFile(publicPem()), '--app', 'reports', '--subject-prefix', 'partner:'], /--subject-prefix needs --issuer/);
  await refused(t, ['cert', 'add', 'self-cert', '--file', writeFile(publicPem()), '--app', 'reports', '--issuer', TEST_ISSUER], /this issuer/);
  const names = (await json<{ name: string }[]>(t, 'cert', 'list')).map((c) => c.name);
  t.false(names.includes('prefix-only') || names.includes('self-cert'));
});

// ── propagation to a running instance ──────────────────────────────────────────────────────

test.serial('a document source added to a running instance is trusted within 2 seconds, and distrusted within 2 seconds of its removal', async (t) => {
  const instance = await startInstance({ JWKS_ALLOW_PRIVATE_NETWORKS: 'true' });
  t.teardown(() => instance.close());
  const partner = await externalIssuer({ issuer: 'https://propagation.example' });
  const setup = await instance.admin('app', 'create', 'deployer', '--grants', 'jwt-bearer', '--scopes', 'deploy', '--audiences', 'https://api.example');
  t.is(setup.code, 0, setup.stderr);

  const exchange = async () => {
    const res = await instance.token({ grant_type: JWT_BEARER, assertion: await partner.sign(), scope: 'deploy' });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const before = await exchange();
  t.is(before.status, 400, JSON.stringify(before.body));
  t.is(before.body.error, 'invalid_grant');

  const added = await instance.admin('jwks', 'add', 'propagated', '--file', partner.jwksFile(instance.dir), '--issuer', partner.issuer, '--app', 'deployer');
  t.is(added.code, 0, added.stderr);
  const accepted = await untilPropagated(exchange, (r) => r.status === 200);
  t.is(accepted.status, 200, JSON.stringify(accepted.body));
  t.is(accepted.body.token_type, 'Bearer');
  t.like(decodeJwt(accepted.body.access_token!), { client_id: 'deployer', src_iss: 'https://propagation.example', scope: 'deploy' });

  const removed = await instance.admin('jwks', 'remove', 'propagated', '--force');
  t.is(removed.code, 0, removed.stderr);
  const refusedAfter = await untilPropagated(exchange, (r) => r.status !== 200);
  t.is(refusedAfter.status, 400, JSON.stringify(refusedAfter.body));
  t.is(refusedAfter.body.error, 'invalid_grant');
});
