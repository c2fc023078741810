import test from 'ava';
import Database from 'better-sqlite3';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { prepareDatabase, runAdmin, startInstance, tempDir, testConfig, TEST_ISSUER, untilPropagated } from '../helpers/instance.ts';

const dir = tempDir();
const config = testConfig(dir);
const admin = (...argv: string[]) => runAdmin(config, argv);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function pemFile(text: string): string {
  const path = join(dir, `key-${++files}.pem`);
  writeFileSync(path, text);
  return path;
}
const publicPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();

test.before(async () => {
  await prepareDatabase(config);
  for (const app of ['partner-api', 'reports']) {
    const run = await admin('app', 'create', app, '--audiences', 'https://api.example');
    if (run.code !== 0) throw new Error(run.stderr);
  }
});

test.serial('cert add binds a public key to every --app and prints its fingerprint and algorithms', async (t) => {
  const run = await admin('cert', 'add', 'partner-key', '--file', pemFile(publicPem()), '--app', 'partner-api', '--app', 'reports', '--json');
  t.is(run.code, 0, run.stderr);
  const view = run.json<Record<string, unknown>>();
  t.like(view, { name: 'partner-key', kind: 'spki', key: 'EC P-256', algorithms: ['ES256'], applications: ['partner-api', 'reports'], expires_at: null });
  t.regex(view.fingerprint as string, /^[0-9a-f]{64}$/);
  const list = (await admin('cert', 'list', '--json')).json<{ name: string }[]>();
  t.deepEqual(list.map((c) => c.name), ['partner-key']);
});

test.serial('the same key twice, a taken name, a private key, no --app and an unknown app are refused', async (t) => {
  const pem = publicPem();
  t.is((await admin('cert', 'add', 'first', '--file', pemFile(pem), '--app', 'reports')).code, 0);
  const cases: [string[], RegExp][] = [
    [['cert', 'add', 'second', '--file', pemFile(pem), '--app', 'reports'], /already stored as certificate first/],
    [['cert', 'add', 'first', '--file', pemFile(publicPem()), '--app', 'reports'], /exists already/],
    [['cert', 'add', 'secret', '--file', pemFile(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()), '--app', 'reports'], /private key/],
    [['cert', 'add', 'unbound', '--file', pemFile(publicPem())], /at least one --app/],
    [['cert', 'add', 'lost', '--file', pemFile(publicPem()), '--app', 'nope'], /no application "nope"/],
    [['cert', 'add', 'nofile', '--file', join(dir, 'missing.pem'), '--app', 'reports'], /cannot read/],
  ];
  for (const [argv, reason] of cases) {
    const run = await admin(...argv);
    t.is(run.code, 1, argv.join(' '));
    t.regex(run.stderr, /^error: /);
    t.regex(run.stderr, reason);
  }
  const names = (await admin('cert', 'list', '--json')).json<{ name: string }[]>().map((c) => c.name);
  t.false(names.includes('second') || names.includes('secret') || names.includes('lost'));
});

test.serial('cert remove forgets the certificate and audits both changes', async (t) => {
  t.is((await admin('cert', 'add', 'temporary', '--file', pemFile(publicPem()), '--app', 'reports')).code, 0);
  t.is((await admin('cert', 'remove', 'temporary', '--force')).code, 0);
  t.is((await admin('cert', 'remove', 'temporary', '--force')).code, 1);
  const actions = (await admin('audit', 'list', '--json')).json<{ action: string; details: { name?: string } }[]>()
    .filter((e) => e.details.name === 'temporary')
    .map((e) => e.action);
  t.deepEqual(actions, ['certificate.removed', 'certificate.added']);
});

test.serial('cert add refuses a public key followed by its private key, and stores nothing of it', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
  const run = await admin('cert', 'add', 'with-private', '--file', pemFile(`${publicKey.export({ format: 'pem', type: 'spki' })}${privatePem}`), '--app', 'reports');
  t.is(run.code, 1);
  t.regex(run.stderr, /private key/);
  const body = privatePem.split('\n')[1]!;
  const stored = new Database(config.databaseFile, { readonly: true }).prepare('SELECT pem FROM verification_certificates').all() as { pem: string }[];
  t.false(stored.some((row) => row.pem.includes('PRIVATE') || row.pem.includes(body)));
});

test.serial('cert add stores the key re-encoded, not the file it was given', async (t) => {
  const pub = publicPem();
  t.is((await admin('cert', 'add', 'reencoded', '--file', pemFile(`# partner key, rotated 2026\n${pub}`), '--app', 'reports')).code, 0);
  const row = new Database(config.databaseFile, { readonly: true }).prepare('SELECT pem FROM verification_certificates WHERE name = ?').get('reencoded') as { pem: string };
  t.is(row.pem, pub.trim());
});

test.serial('cert add reads at most 1 MiB of a file: /dev/zero is refused at once', async (t) => {
  const run = await admin('cert', 'add', 'zeros', '--file', '/dev/zero', '--app', 'reports');
  t.is(run.code, 1);
  t.regex(run.stderr, /^error: \/dev\/zero is larger than 1024 KiB/);
});

// ── cert bind, unbind and remove while bound ───────────────────────────────────────────────

type CertView = { name: string; applications: string[] };
type AuditView = { action: string; client_id: string | null; details: Record<string, unknown> };
const certNamed = async (name: string) => (await admin('cert', 'list', '--json')).json<CertView[]>().find((c) => c.name === name);
const auditOfApp = async (clientId: string) => (await admin('audit', 'list', '--app', clientId, '--json')).json<AuditView[]>();

test.serial('cert bind adds applications to a stored certificate; one bound already is left as it is', async (t) => {
  t.is((await admin('cert', 'add', 'shared-key', '--file', pemFile(publicPem()), '--app', 'reports')).code, 0);
  const bound = await admin('cert', 'bind', 'shared-key', '--app', 'partner-api', '--app', 'reports', '--json');
  t.is(bound.code, 0, bound.stderr);
  t.deepEqual(bound.json<CertView>().applications.sort(), ['partner-api', 'reports']);
  t.deepEqual((await certNamed('shared-key'))!.applications.sort(), ['partner-api', 'reports']);
  const [event] = await auditOfApp('partner-api');
  t.like(event, { action: 'certificate.bound', client_id: 'partner-api', details: { name: 'shared-key', applications: ['partner-api'] } });
  t.false((await auditOfApp('reports')).some((e) => e.action === 'certificate.bound'), 'reports was bound already: nothing changed for it');
});

test.serial('cert unbind removes applications from a certificate, which stays stored', async (t) => {
  const unbound = await admin('cert', 'unbind', 'shared-key', '--app', 'reports', '--json');
  t.is(unbound.code, 0, unbound.stderr);
  t.deepEqual(unbound.json<CertView>().applications, ['partner-api']);
  t.deepEqual((await certNamed('shared-key'))!.applications, ['partner-api']);
  t.like((await auditOfApp('reports'))[0], { action: 'certificate.unbound', client_id: 'reports', details: { name: 'shared-key' } });
});

test.serial('cert bind and unbind refuse an unknown certificate or application, an unbound application and no --app, and change nothing', async (t) => {
  const cases: [string[], string][] = [
    [['cert', 'bind', 'nope', '--app', 'reports'], 'no certificate "nope"'],
    [['cert', 'unbind', 'nope', '--app', 'reports'], 'no certificate "nope"'],
    [['cert', 'bind', 'shared-key', '--app', 'reports', '--app', 'ghost'], 'no application "ghost"'],
    [['cert', 'unbind', 'shared-key', '--app', 'ghost'], 'certificate shared-key is not bound to "ghost"'],
    [['cert', 'unbind', 'shared-key', '--app', 'partner-api', '--app', 'reports'], 'certificate shared-key is not bound to "reports"'],
    [['cert', 'bind', 'shared-key'], 'give at least one --app'],
    [['cert', 'unbind', 'shared-key'], 'give at least one --app'],
  ];
  for (const [argv, reason] of cases) {
    const run = await admin(...argv);
    t.is(run.code, 1, argv.join(' '));
    t.is(run.stdout, '');
    t.is(run.stderr, `error: ${reason}\n`, argv.join(' '));
  }
  t.deepEqual((await certNamed('shared-key'))!.applications, ['partner-api']);
});

test.serial('cert remove refuses while the certificate is bound, naming the applications; --force removes it', async (t) => {
  const run = await admin('cert', 'remove', 'shared-key');
  t.is(run.code, 1);
  t.is(run.stderr, 'error: certificate shared-key is bound to application partner-api: give --force to remove it and its bindings\n');
  t.truthy(await certNamed('shared-key'));
  t.is((await admin('cert', 'remove', 'shared-key', '--force')).code, 0);
  t.is(await certNamed('shared-key'), undefined);
  t.like((await auditOfApp('partner-api'))[0], { action: 'certificate.removed', client_id: 'partner-api', details: { name: 'shared-key', applications: ['partner-api'] } });
});

test.serial('a certificate bound to nothing is removed without --force', async (t) => {
  t.is((await admin('cert', 'add', 'loose-key', '--file', pemFile(publicPem()), '--app', 'reports')).code, 0);
  t.is((await admin('cert', 'unbind', 'loose-key', '--app', 'reports')).code, 0);
  const removed = await admin('cert', 'remove', 'loose-key');
  t.is(removed.code, 0, removed.stderr);
});

test.serial('cert --help marks the required options', async (t) => {
  for (const verb of ['add', 'bind', 'unbind']) {
    const run = await admin('cert', verb, '--help');
    t.is(run.code, 0);
    // descriptions wrap at 80 columns: join the continuation lines
    const help = run.stdout.replace(/\n {10,}/g, ' ');
    t.regex(help, new RegExp(`^Usage: admin cert ${verb} \\[options\\] <name>$`, 'm'));
    t.regex(help, /--app <client_id> +.*\(repeatable\) \(required\)$/m, verb);
    t.notRegex(help, /default: \[\]/, verb);
  }
  t.regex((await admin('cert', 'add', '--help')).stdout.replace(/\n {10,}/g, ' '), /--file <pem> +the certificate or SPKI public key, PEM \(required\)$/m);
});

test.serial('cert bind and unbind reach a running server within 2 seconds: private_key_jwt works only while bound', async (t) => {
  const instance = await startInstance();
  t.teardown(() => instance.close());
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = join(instance.dir, 'key.pem');
  writeFileSync(file, publicKey.export({ format: 'pem', type: 'spki' }).toString());
  for (const argv of [
    ['app', 'create', 'first', '--audiences', 'https://api.example'],
    ['app', 'create', 'second', '--audiences', 'https://api.example'],
    ['cert', 'add', 'workload-key', '--file', file, '--app', 'first'],
  ]) t.is((await instance.admin(...argv)).code, 0, argv.join(' '));
  const request = async () => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: 'second', sub: 'second', aud: TEST_ISSUER, iat: now, exp: now + 60, jti: randomUUID() }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const res = await instance.token({ grant_type: 'client_credentials', client_id: 'second', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    return res.status;
  };
  t.is(await request(), 401);
  t.is((await instance.admin('cert', 'bind', 'workload-key', '--app', 'second')).code, 0);
  t.is(await untilPropagated(request, (s) => s === 200), 200);
  t.is((await instance.admin('cert', 'unbind', 'workload-key', '--app', 'second')).code, 0);
  t.is(await untilPropagated(request, (s) => s !== 200), 401);
});
