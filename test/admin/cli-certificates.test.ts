import test from 'ava';
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareDatabase, runAdmin, tempDir, testConfig } from '../helpers/instance.ts';

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
  t.is((await admin('cert', 'remove', 'temporary')).code, 0);
  t.is((await admin('cert', 'remove', 'temporary')).code, 1);
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
