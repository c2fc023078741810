import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenRequestEvent, recordable } from '../../src/http/token-audit.ts';
import { generateSecret } from '../../src/secrets/format.ts';
import { basic, createApp, startInstance, type Instance } from '../helpers/instance.ts';

let instance: Instance;
let clientSecret: string;
let appPassword: string;

test.before(async () => {
  instance = await startInstance({ TRUST_PROXY: '1' });
  clientSecret = await createApp(instance, 'reports');
  const account = await instance.admin('service-account', 'create', 'nightly-job', '--app', 'reports', '--json');
  appPassword = account.json<{ app_password: string }>().app_password;
  const pem = join(instance.dir, 'partner.pem');
  writeFileSync(pem, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString());
  for (const argv of [['app', 'create', 'partner', '--audiences', 'https://api.example'], ['cert', 'add', 'partner-key', '--file', pem, '--app', 'partner']]) {
    const run = await instance.admin(...argv);
    if (run.code !== 0) throw new Error(run.stderr);
  }
});
test.after.always(() => instance.close());

/** Every byte the database holds, including what waits in the write-ahead log. */
function databaseBytes(): string {
  const file = instance.config.databaseFile;
  return [file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
}

async function auditText(): Promise<string> {
  await instance.serving.deps.writer.flush();
  return (await instance.admin('audit', 'list', '--json', '--limit', '1000')).stdout;
}

test.serial('a client secret sent as the client_id, in the body or the Basic header, is never recorded', async (t) => {
  t.is((await instance.token({ grant_type: 'client_credentials', client_id: clientSecret, client_secret: 'reports' })).status, 401);
  t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: basic(clientSecret, 'reports') })).status, 401);
  const audit = await auditText();
  t.false(audit.includes(clientSecret));
  t.false(databaseBytes().includes(clientSecret));
  const events = JSON.parse(audit) as { client_id: string | null; action: string }[];
  t.true(events.filter((e) => e.action === 'token.denied' && e.client_id === '(secret-shaped)').length >= 2);
});

test.serial('an app password sent as the username is never recorded', async (t) => {
  t.is((await instance.token({ grant_type: 'client_credentials', client_id: 'reports', username: appPassword, password: 'nightly-job' })).status, 400);
  const audit = await auditText();
  t.false(audit.includes(appPassword));
  t.false(databaseBytes().includes(appPassword));
  t.true((JSON.parse(audit) as { subject: string | null }[]).some((e) => e.subject === '(secret-shaped)'));
});

test.serial('a secret in X-Forwarded-For (the caller\'s address, with TRUST_PROXY) is never recorded', async (t) => {
  const leaked = generateSecret('client-secret').secret;
  await instance.token({ grant_type: 'client_credentials', client_id: 'reports', client_secret: 'wrong' }, { 'x-forwarded-for': leaked });
  const audit = await auditText();
  t.false(audit.includes(leaked));
  t.true((JSON.parse(audit) as { ip: string | null }[]).some((e) => e.ip === '(secret-shaped)'));
});

test.serial('a secret sent without its prefix (which a caller could put back) is not recorded either', async (t) => {
  const bare = clientSecret.slice('tmcs_'.length);
  await instance.token({ grant_type: 'client_credentials', client_id: bare, client_secret: 'x' });
  await instance.token({ grant_type: 'client_credentials', client_id: 'reports', username: bare, password: 'x' });
  const audit = await auditText();
  t.false(audit.includes(bare));
  t.false(audit.includes(bare.slice(17)), 'nor its key alone');
});

test.serial('caller text in a refusal is cut short: a 10,000-character JWT header cannot make a 10 KB row', async (t) => {
  const header = Buffer.from(JSON.stringify({ alg: 'A'.repeat(10_000) })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ iss: 'partner', sub: 'partner' })).toString('base64url');
  const res = await instance.token({
    grant_type: 'client_credentials',
    client_id: 'partner',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: `${header}.${payload}.c2ln`,
  });
  t.is(res.status, 401);
  const events = JSON.parse(await auditText()) as { client_id: string | null; reason: string | null }[];
  const refused = events.find((e) => e.client_id === 'partner');
  t.regex(refused?.reason ?? '', /^client assertion: algorithm A{40} not allowed$/);
  t.true(recordable({ at: new Date(), action: 'token.denied', outcome: 'failure', reason: 'x'.repeat(10_000) }).reason!.length <= 301);
});

test.serial('a truncated secret is treated like a whole one', async (t) => {
  const cut = clientSecret.slice(0, 30);
  await instance.token({ grant_type: 'client_credentials', client_id: cut, client_secret: 'x' });
  t.false((await auditText()).includes(cut));
});

test('ids starting like a secret are refused when created, so no client_id or username can look like one', async (t) => {
  for (const argv of [
    ['app', 'create', 'tmcs_reports', '--audiences', 'https://api.example'],
    ['app', 'create', 'TMAP_export', '--audiences', 'https://api.example'],
    ['service-account', 'create', 'tmap_job', '--app', 'reports'],
  ]) {
    const run = await instance.admin(...argv);
    t.is(run.code, 1, argv.join(' '));
    t.regex(run.stderr, /must be 1-128 letters/);
  }
});

test('every text of an event is scrubbed, nested details included, whatever put a secret there', (t) => {
  const secret = generateSecret('app-password').secret;
  const event = recordable({
    ...tokenRequestEvent({ grant: {} }, secret, undefined),
    reason: `client_assertion_type ${secret}`,
    details: { grant_assertion: { assertion_sub: secret, list: [secret, 'kept'] } },
  });
  t.false(JSON.stringify(event).includes(secret));
  t.is(event.ip, '(secret-shaped)');
  t.deepEqual(event.details, { grant_assertion: { assertion_sub: '(secret-shaped)', list: ['(secret-shaped)', 'kept'] } });
});
