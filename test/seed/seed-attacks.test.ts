// Attacks on seed files and export: each test states a promise of README "Configuration as code"
// (or of the CLI the seed file mirrors).
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, exportJWK } from 'jose';
import { parseVerificationPem } from '../../src/trust/certificates.ts';
import { createPrisma } from '../../src/store/prisma.ts';
import { insertCertificate } from '../../src/store/trust.ts';
import { basic, prepareDatabase, runAdmin, startInstance, tempDir, testConfig, untilPropagated, type Instance } from '../helpers/instance.ts';
import { adminEnvironment, adminProcess } from '../helpers/admin-process.ts';
import { ROOT } from '../helpers/process.ts';

let instance: Instance;
let counter = 0;

test.before(async () => {
  instance = await startInstance();
});
test.after.always(() => instance?.close());

interface SeedJson {
  plan: { kind: string; name: string; action: string; changes?: string[] }[];
  applied: boolean;
  secrets: Record<string, string>;
}

function file(text: string, dir = instance.dir): string {
  const path = join(dir, `review-${++counter}.yaml`);
  writeFileSync(path, text);
  return path;
}

async function seedOk(target: Instance, path: string, ...flags: string[]): Promise<SeedJson> {
  const run = await target.admin('seed', path, '--json', ...flags);
  if (run.code !== 0) throw new Error(run.stderr);
  return run.json<SeedJson>();
}

const adminEvents = async () =>
  (await instance.admin('audit', 'list', '--limit', '100000', '--json')).json<{ details: Record<string, unknown> | null }[]>().filter((e) => e.details?.actor === 'admin-cli').length;

async function ecJwks(kid: string): Promise<string> {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return JSON.stringify({ keys: [{ ...(await exportJWK(key.publicKey)), kid, alg: 'ES256', use: 'sig' }] });
}

/** A database of its own, without a server, for export round trips that must not see the other tests' objects. */
async function freshDatabase() {
  const dir = tempDir();
  const config = testConfig(dir);
  await prepareDatabase(config);
  return { dir, config, admin: (...argv: string[]) => runAdmin(config, argv) };
}

async function roundTrip(t: import('ava').ExecutionContext, source: { admin: (...argv: string[]) => Promise<{ stdout: string }> }) {
  const first = await source.admin('export');
  const empty = await freshDatabase();
  const path = join(empty.dir, 'exported.yaml');
  writeFileSync(path, first.stdout);
  const applied = await empty.admin('seed', path);
  t.is(applied.code, 0, applied.stderr);
  t.is((await empty.admin('export')).stdout, first.stdout);
}

const ecPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();

test.serial('idempotency: a JWKS source naming an algorithm twice is unchanged on the second apply (no replacement, no audit event)', async (t) => {
  const text = `
applications:
  - client_id: rv-algs
    audiences: [https://a.example]
jwks_sources:
  - name: rv-algs-source
    apps: [rv-algs]
    issuer: https://algs.example
    algorithms: [ES256, ES256]
    jwks: ${await ecJwks('algs-1')}
`;
  await seedOk(instance, file(text));
  const before = await adminEvents();
  const again = await seedOk(instance, file(text));
  t.deepEqual(again.plan.filter((e) => e.action !== 'unchanged'), []);
  t.false(again.applied);
  t.is(await adminEvents(), before, 'nothing written, not even an audit event');
});

test.serial('a repeated application in the apps of an existing certificate or JWKS source is applied, not a crash on the unique binding', async (t) => {
  const pem = JSON.stringify(ecPem());
  const jwks = await ecJwks('dup-1');
  const text = (apps: string) => `
applications:
  - client_id: rv-dup-1
    audiences: [https://a.example]
  - client_id: rv-dup-2
    audiences: [https://a.example]
certificates:
  - name: rv-dup-cert
    apps: ${apps}
    pem: ${pem}
jwks_sources:
  - name: rv-dup-source
    apps: ${apps}
    issuer: https://dup.example
    algorithms: [ES256]
    jwks: ${jwks}
`;
  await seedOk(instance, file(text('[rv-dup-1]')));
  // on create the duplicate is tolerated ([...new Set]); on update it is not
  const run = await instance.admin('seed', file(text('[rv-dup-1, rv-dup-2, rv-dup-2]')), '--json');
  t.is(run.code, 0, run.stderr);
  const certs = (await instance.admin('export', '--format', 'json')).json<{ certificates: { name: string; apps: string[] }[] }>().certificates;
  t.deepEqual(certs.find((c) => c.name === 'rv-dup-cert')?.apps, ['rv-dup-1', 'rv-dup-2']);
});

test.serial('--prune never touches hand-made objects: a pruned seed application does not strip the bindings of hand-made service accounts and policies', async (t) => {
  await seedOk(instance, file(`applications:\n  - client_id: rv-pruned\n    audiences: [https://a.example]\n`));
  t.is((await instance.admin('service-account', 'create', 'rv-hand-account', '--app', 'rv-pruned')).code, 0);
  t.is((await instance.admin('policy', 'add', 'rv-hand-policy', '--app', 'rv-pruned', '--expression', 'true')).code, 0);
  const run = await instance.admin('seed', file(`applications:\n  - client_id: rv-other\n    audiences: [https://a.example]\n`), '--prune', '--json');
  // whatever the command decides (refuse, or keep the application), the hand-made objects keep their binding
  const account = (await instance.admin('service-account', 'show', 'rv-hand-account', '--json')).json<{ applications: string[] | string }>();
  const policy = (await instance.admin('policy', 'show', 'rv-hand-policy', '--json')).json<{ applications: string[] | string }>();
  t.deepEqual([account.applications].flat(), ['rv-pruned'], `seed exit ${run.code}: ${run.stdout}${run.stderr}`);
  t.deepEqual([policy.applications].flat(), ['rv-pruned']);
});

test.serial('a file whose service account names an application the same --prune deletes is refused, not applied as an account bound to nothing', async (t) => {
  await seedOk(instance, file(`applications:\n  - client_id: rv-old\n    audiences: [https://a.example]\n`));
  const text = `applications:\n  - client_id: rv-new\n    audiences: [https://a.example]\nservice_accounts:\n  - username: rv-orphan\n    apps: [rv-old]\n`;
  const run = await instance.admin('seed', file(text), '--prune');
  const show = await instance.admin('service-account', 'show', 'rv-orphan', '--json');
  if (show.code === 0) t.notDeepEqual([show.json<{ applications: string[] | string }>().applications].flat().filter((a) => a !== '-'), [], 'an account bound to no application');
  t.is(run.code, 1, run.stdout);
  t.regex(run.stderr, /service_accounts\[0\]\.apps\[0\]: no application "rv-old" in the file or the database \(--prune deletes it\)/);
  // without --prune the application stays, and the same file applies
  t.is((await instance.admin('seed', file(text))).code, 0);
  t.deepEqual([(await instance.admin('service-account', 'show', 'rv-orphan', '--json')).json<{ applications: string[] | string }>().applications].flat(), ['rv-old']);
});

test.serial('plan: a client secret from {env} that differs after its id is an update (not unchanged), and the new value works', async (t) => {
  const first = (await instance.admin('secret', 'generate')).stdout.trim();
  const second = `${first.slice(0, -6)}${first.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
  const text = `applications:\n  - client_id: rv-env\n    client_secret: {env: RV_ENV_SECRET}\n    audiences: [https://a.example]\n`;
  process.env.RV_ENV_SECRET = first;
  await seedOk(instance, file(text));
  process.env.RV_ENV_SECRET = second;
  const plan = await seedOk(instance, file(text));
  t.deepEqual(plan.plan, [{ kind: 'application', name: 'rv-env', action: 'update', changes: ['client_secret'] }]);
  const token = await untilPropagated(() => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('rv-env', second) }), (r) => r.status === 200);
  t.is(token.status, 200, 'the secret the environment holds is the one that works');
});

test.serial('attributes in a seed file are checked as --attributes is: a secret-shaped value is refused and never reaches the export', async (t) => {
  const secret = (await instance.admin('secret', 'generate')).stdout.trim();
  const cli = await instance.admin('service-account', 'create', 'rv-attr-cli', '--app', 'rv-env');
  t.is(cli.code, 0);
  t.is((await instance.admin('service-account', 'update', 'rv-attr-cli', '--attributes', JSON.stringify({ token: secret }))).code, 1, 'the CLI refuses it');
  let deep: unknown = 'leaf';
  for (let i = 0; i < 20; i++) deep = { d: deep };
  for (const [what, attributes] of [['secret', { token: secret }], ['too deep', { deep }], ['too large', { big: 'x'.repeat(20 * 1024) }]] as const) {
    const run = await instance.admin('seed', file(`service_accounts:\n  - username: rv-attr-${what.replace(' ', '-')}\n    apps: [rv-env]\n    attributes: ${JSON.stringify(attributes)}\n`));
    t.is(run.code, 1, `${what}: accepted`);
    t.regex(run.stderr, /service_accounts\[0\]\.attributes/, what);
  }
  t.false((await instance.admin('export')).stdout.includes(secret), 'no secret in the export');
});

test.serial('validation: --dry-run finds the JWKS source problems the apply refuses, listed with the other problems', async (t) => {
  const text = `
applications:
  - client_id: rv-dry
    audiences: [https://a.example]
jwks_sources:
  - name: rv-dry-none
    apps: [rv-dry]
    issuer: https://dry.example
    algorithms: [none]
    jwks: ${await ecJwks('dry-1')}
  - name: rv-dry-self
    apps: [rv-dry]
    issuer: https://issuer.tokenmint.test
    jwks: {keys: []}
policies:
  - name: rv-dry-policy
    apps: [rv-dry]
    expression: "broken("
`;
  const dry = await instance.admin('seed', file(text), '--dry-run');
  t.is(dry.code, 1, dry.stdout);
  t.regex(dry.stderr, /jwks_sources\[0\]/);
  t.regex(dry.stderr, /jwks_sources\[1\]/);
  t.regex(dry.stderr, /policies\[0\]\.expression/);
});

test.serial('validation: a certificate with an unsupported key type (DSA) is one problem with its path, beside the others', async (t) => {
  const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const text = `
applications:
  - client_id: rv-dsa
    audiences: [https://a.example]
certificates:
  - name: rv-dsa-key
    apps: [rv-dsa]
    pem: ${JSON.stringify(dsa)}
policies:
  - name: rv-dsa-policy
    apps: [rv-dsa]
    expression: "broken("
`;
  const run = await instance.admin('seed', file(text), '--dry-run');
  t.is(run.code, 1);
  t.regex(run.stderr, /certificates\[0\]/);
  t.regex(run.stderr, /policies\[0\]\.expression/);
});

test.serial('file: references cannot leave the seed file\'s directory, and a referenced file\'s content is never printed', async (t) => {
  const outside = join(instance.dir, 'outside');
  const seeds = join(instance.dir, 'seeds');
  mkdirSync(outside, { recursive: true });
  mkdirSync(seeds, { recursive: true });
  const token = 'ghp_R2d2C3poSuperSecretGithubToken0123456789';
  writeFileSync(join(outside, 'token'), `${token}\n`);
  const text = `applications:\n  - client_id: rv-exfil\n    audiences: [https://a.example]\npolicies:\n  - name: rv-exfil\n    apps: [rv-exfil]\n    expression: {file: ../outside/token}\n  - name: rv-exfil-abs\n    apps: [rv-exfil]\n    expression: {file: ${join(outside, 'token')}}\n`;
  const run = await instance.admin('seed', file(text, seeds), '--dry-run');
  t.is(run.code, 1);
  t.false(run.stderr.includes(token), run.stderr);
});

test.serial('a file: reference to an endless file (/dev/zero) or the seed file itself being one ends with one error line, not an endless read', async (t) => {
  const text = `applications:\n  - client_id: rv-zero\n    audiences: [https://a.example]\npolicies:\n  - name: rv-zero\n    apps: [rv-zero]\n    expression: {file: /dev/zero}\n`;
  for (const argv of [['seed', file(text), '--dry-run'], ['seed', '/dev/zero', '--dry-run']]) {
    const run = await adminProcess(instance, argv, 8000);
    t.false(run.killed, `${argv[1]}: still reading after 8 s`);
    t.is(run.code, 1);
    t.regex(run.stderr, /^error: /);
  }
});

test.serial('export → apply to an empty database → export: objects the CLI makes (an unbound certificate, a long description or name) round-trip', async (t) => {
  const source = await freshDatabase();
  t.is((await source.admin('app', 'create', 'rv-trip', '--audiences', 'https://a.example', '--name', 'N'.repeat(300))).code, 0);
  writeFileSync(join(source.dir, 'rv-trip.pem'), ecPem());
  t.is((await source.admin('cert', 'add', 'rv-trip-cert', '--app', 'rv-trip', '--file', join(source.dir, 'rv-trip.pem'))).code, 0);
  t.is((await source.admin('cert', 'unbind', 'rv-trip-cert', '--app', 'rv-trip')).code, 0);
  t.is((await source.admin('policy', 'add', 'rv-trip-policy', '--app', 'rv-trip', '--expression', 'true', '--description', 'd'.repeat(1500))).code, 0);
  await roundTrip(t, source);
});

test.serial('export → apply to an empty database keeps the order of claims policies (a later one overrides an earlier one)', async (t) => {
  const source = await startInstance();
  const empty = await startInstance();
  try {
    const created = await source.admin('app', 'create', 'rv-claims', '--secret', '--audiences', 'https://a.example', '--json');
    const secret = created.json<{ client_secret: string }>().client_secret;
    // bound first: zz-gold; bound second (so it wins): aa-silver
    t.is((await source.admin('policy', 'add', 'rv-zz-gold', '--app', 'rv-claims', '--kind', 'claims', '--expression', '{"tier": "gold"}')).code, 0);
    t.is((await source.admin('policy', 'add', 'rv-aa-silver', '--app', 'rv-claims', '--kind', 'claims', '--expression', '{"tier": "silver"}')).code, 0);
    const tierOf = async (target: Instance, clientSecret: string) => {
      const response = await untilPropagated(() => target.token({ grant_type: 'client_credentials' }, { authorization: basic('rv-claims', clientSecret) }), (r) => r.status === 200);
      return decodeJwt(((await response.json()) as { access_token: string }).access_token).tier;
    };
    t.is(await tierOf(source, secret), 'silver');
    const path = join(empty.dir, 'exported.yaml');
    writeFileSync(path, (await source.admin('export')).stdout);
    const applied = await seedOk(empty, path);
    t.is(await tierOf(empty, applied.secrets['rv-claims']!), 'silver', 'the restored deployment issues the same claims');
  } finally {
    await source.close();
    await empty.close();
  }
});

test.serial('export → apply to an empty database with a certificate that has expired since it was added', async (t) => {
  const source = await freshDatabase();
  const dir = source.dir;
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'r.csr'), '-subj', '/CN=old'], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', join(dir, 'r.csr'), '-signkey', join(dir, 'k.pem'), '-days', '-1', '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const parsed = parseVerificationPem(readFileSync(join(dir, 'c.pem'), 'utf8'));
  t.is((await source.admin('app', 'create', 'rv-expired', '--audiences', 'https://a.example')).code, 0);
  // stored while it was still valid (cert add refuses an expired one), as cert add stores it
  const db = await createPrisma(source.config.database, 5000);
  try {
    const { id } = await db.application.findUniqueOrThrow({ where: { clientId: 'rv-expired' } });
    await db.$transaction((tx) => insertCertificate(tx, { name: 'rv-expired-cert', pem: parsed.pem, fingerprint: parsed.fingerprint, jwk: { ...parsed.jwk }, notBefore: parsed.notBefore, expiresAt: parsed.expiresAt, issuer: null, subjectPrefix: null }, [id]));
  } finally {
    await db.$disconnect();
  }
  await roundTrip(t, source);
});

test.serial('export is the same file whatever the locale of the machine running it (names sorted by code point, not localeCompare)', async (t) => {
  const source = await freshDatabase();
  for (const clientId of ['aa-app', 'zz-app', 'b-app']) t.is((await source.admin('app', 'create', clientId, '--audiences', 'https://a.example')).code, 0);
  const exportIn = (locale: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', 'export'], {
        cwd: ROOT,
        env: { ...adminEnvironment(source), LANG: locale, LC_ALL: locale },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('error', reject);
      child.on('exit', () => resolve(stdout));
    });
  const english = await exportIn('en_US.UTF-8');
  t.regex(english, /client_id: aa-app/);
  t.is(await exportIn('da_DK.UTF-8'), english);
});
