// Seed files: validated whole, planned, applied all or nothing, idempotent, pruned, exported.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedJsonSchema } from '../../src/seed/definitions.ts';
import { basic, startInstance, untilPropagated, type Instance } from '../helpers/instance.ts';

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

function file(text: string, name = `seed-${++counter}.yaml`): string {
  const path = join(instance.dir, name);
  writeFileSync(path, text);
  return path;
}

async function seed(path: string, ...flags: string[]): Promise<SeedJson> {
  const run = await instance.admin('seed', path, '--json', ...flags);
  if (run.code !== 0) throw new Error(run.stderr);
  return run.json<SeedJson>();
}

const actions = (result: SeedJson) => Object.fromEntries(result.plan.map((e) => [`${e.kind}:${e.name}`, e.action]));
/** Admin changes recorded so far (token requests are recorded too, in the background, and are not counted). */
const auditCount = async () =>
  (await instance.admin('audit', 'list', '--limit', '100000', '--json')).json<{ details: Record<string, unknown> | null }[]>().filter((e) => e.details?.actor === 'admin-cli').length;

const BASE = `
applications:
  - client_id: shop
    client_secret: generate
    scopes: [orders:read, orders:write]
    default_scopes: [orders:read]
    audiences: [https://orders.example]
service_accounts:
  - username: shop-batch
    apps: [shop]
    permissions: [orders:read]
    app_password: generate
policies:
  - name: shop-inside
    apps: [shop]
    expression: ip_in(request.ip, "127.0.0.0/8")
`;

test.serial('apply creates everything, prints the generated secrets once, and a running server issues tokens with them within 2 s', async (t) => {
  const result = await seed(file(BASE));
  t.true(result.applied);
  t.deepEqual(actions(result), { 'application:shop': 'create', 'service_account:shop-batch': 'create', 'policy:shop-inside': 'create' });
  t.regex(result.secrets.shop!, /^tmcs_/);
  t.regex(result.secrets['shop-batch']!, /^tmap_/);
  const viaSecret = await untilPropagated(() => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('shop', result.secrets.shop!) }), (r) => r.status === 200);
  t.is(viaSecret.status, 200);
  const viaAccount = await instance.token({ grant_type: 'client_credentials', client_id: 'shop', username: 'shop-batch', password: result.secrets['shop-batch']! });
  t.is(viaAccount.status, 200);
  const events = (await instance.admin('audit', 'list', '--json')).json<{ action: string; details: Record<string, unknown> | null }[]>();
  t.true(events.some((e) => e.action === 'seed.applied'));
  t.true(events.filter((e) => ['app.created', 'service_account.created', 'policy.added'].includes(e.action)).every((e) => e.details?.source === 'seed'));
});

test.serial('applying the same file again reports everything unchanged and writes nothing, not even an audit event', async (t) => {
  const before = await auditCount();
  const again = await seed(file(BASE));
  t.false(again.applied);
  t.true(again.plan.every((e) => e.action === 'unchanged'));
  t.deepEqual(again.secrets, {});
  t.is(await auditCount(), before);
});

test.serial('changing one field plans an update of exactly that field, and --dry-run changes nothing', async (t) => {
  const changed = BASE.replace('default_scopes: [orders:read]', 'default_scopes: [orders:read]\n    ttl: 300');
  const dry = await seed(file(changed), '--dry-run');
  t.false(dry.applied);
  t.deepEqual(dry.plan.find((e) => e.name === 'shop'), { kind: 'application', name: 'shop', action: 'update', changes: ['ttl'] });
  t.is((await instance.admin('app', 'show', 'shop', '--json')).json<{ access_token_ttl: number | null }>().access_token_ttl, null);
  const applied = await seed(file(changed));
  t.true(applied.applied);
  t.is((await instance.admin('app', 'show', 'shop', '--json')).json<{ access_token_ttl: number | null }>().access_token_ttl, 300);
  t.deepEqual(applied.secrets, {}, 'an existing secret is not generated again');
});

test.serial('--prune deletes only what a seed apply created; objects made by hand are listed as not managed and kept', async (t) => {
  t.is((await instance.admin('app', 'create', 'handmade', '--audiences', 'https://orders.example')).code, 0);
  const extra = `${BASE}  - name: shop-extra\n    apps: [shop]\n    expression: "true"\n`;
  await seed(file(extra));
  const pruned = await seed(file(BASE), '--prune');
  t.is(actions(pruned)['policy:shop-extra'], 'delete');
  t.is(actions(pruned)['application:handmade'], 'not managed');
  t.is((await instance.admin('policy', 'show', 'shop-extra')).code, 1);
  t.is((await instance.admin('app', 'show', 'handmade')).code, 0);
  // without --prune nothing is even considered
  const plain = await seed(file(BASE));
  t.is(actions(plain)['application:handmade'], undefined);
});

test.serial('secrets by environment reference: an unset variable is an error; a set one is used as the secret', async (t) => {
  const text = `applications:\n  - client_id: envapp\n    client_secret: {env: ENVAPP_SECRET}\n    audiences: [https://orders.example]\n`;
  delete process.env.ENVAPP_SECRET;
  const unset = await instance.admin('seed', file(text));
  t.is(unset.code, 1);
  t.regex(unset.stderr, /applications\[0\]\.client_secret: the environment variable ENVAPP_SECRET is not set/);
  process.env.ENVAPP_SECRET = 'not-a-tokenmint-secret';
  t.regex((await instance.admin('seed', file(text))).stderr, /does not hold a tokenmint client secret/);
  const generated = await instance.admin('secret', 'generate');
  t.is(generated.code, 0);
  process.env.ENVAPP_SECRET = generated.stdout.trim();
  const applied = await seed(file(text));
  t.deepEqual(applied.secrets, {}, 'a secret from the environment is never printed');
  const token = await untilPropagated(() => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('envapp', process.env.ENVAPP_SECRET!) }), (r) => r.status === 200);
  t.is(token.status, 200);
  t.true((await seed(file(text))).plan.every((e) => e.action === 'unchanged'));
});

test.serial('validation lists every problem with its path, and applies nothing', async (t) => {
  const bad = `
applications:
  - client_id: ok-one
    audiences: [https://a.example]
  - client_id: "bad id with spaces"
    audiences: []
    scopes: [read]
    default_scopes: [write]
service_accounts:
  - username: lonely
    apps: [no-such-app]
policies:
  - name: broken
    apps: [ok-one]
    expression: "this is not CEL ("
unknown_section: []
`;
  const run = await instance.admin('seed', file(bad));
  t.is(run.code, 1);
  t.regex(run.stderr, /applications\[1\]\.client_id/);
  t.regex(run.stderr, /applications\[1\]\.audiences/);
  t.regex(run.stderr, /unknown_section|Unrecognized key/);
  t.is((await instance.admin('app', 'show', 'ok-one')).code, 1, 'nothing applied');
  // once the shape is right, the rules across fields and objects are checked, all listed too
  const semantic = `
applications:
  - client_id: ok-two
    audiences: [https://a.example]
    scopes: [read]
    default_scopes: [write]
service_accounts:
  - username: lonely
    apps: [no-such-app]
    attributes: {token: "tmcs_abcdefghijkmnpqr_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"}
policies:
  - name: broken
    apps: [ok-two]
    expression: "this is not CEL ("
`;
  const second = await instance.admin('seed', file(semantic));
  t.is(second.code, 1);
  t.regex(second.stderr, /applications\[0\]: default scope "write" is not among/);
  t.regex(second.stderr, /policies\[0\]\.expression:/);
  t.regex(second.stderr, /service_accounts\[0\]\.attributes: holds a value shaped like a tokenmint secret/);
  t.is((await instance.admin('app', 'show', 'ok-two')).code, 1);
});

test.serial('a reference to an application that exists nowhere fails the whole file: nothing of it is applied', async (t) => {
  const text = `applications:\n  - client_id: half\n    audiences: [https://a.example]\nservice_accounts:\n  - username: orphan\n    apps: [missing-app]\n`;
  const run = await instance.admin('seed', file(text));
  t.is(run.code, 1);
  t.regex(run.stderr, /service_accounts\[0\]\.apps\[0\]: no application "missing-app"/);
  t.is((await instance.admin('app', 'show', 'half')).code, 1);
});

test.serial('a username taken as a client_id in the database fails the file before anything is written', async (t) => {
  const before = await auditCount();
  const text = `applications:\n  - client_id: fresh-app\n    audiences: [https://a.example]\nservice_accounts:\n  - username: handmade\n    apps: [fresh-app]\n`;
  const run = await instance.admin('seed', file(text));
  t.is(run.code, 1);
  t.regex(run.stderr, /service_accounts\[0\]\.username: "handmade" is a client_id already/);
  t.is((await instance.admin('app', 'show', 'fresh-app')).code, 1);
  t.is(await auditCount(), before);
});

test('schema/seed.schema.json is what the definitions generate (npm run seed:schema writes it)', (t) => {
  const published = JSON.parse(readFileSync(new URL('../../schema/seed.schema.json', import.meta.url), 'utf8'));
  t.deepEqual(published, JSON.parse(JSON.stringify(seedJsonSchema())));
});

test.serial('one object failing inside the transaction rolls back everything before it', async (t) => {
  process.env.SHARED_PASSWORD = (await instance.admin('secret', 'generate', '--app-password')).stdout.trim();
  // two accounts cannot hold the same app password (its id is unique): the second insert fails
  const text = `
applications:
  - client_id: rollback-app
    audiences: [https://a.example]
service_accounts:
  - username: rollback-one
    apps: [rollback-app]
    app_password: {env: SHARED_PASSWORD}
  - username: rollback-two
    apps: [rollback-app]
    app_password: {env: SHARED_PASSWORD}
`;
  const before = await auditCount();
  const run = await instance.admin('seed', file(text));
  t.is(run.code, 1);
  t.is((await instance.admin('app', 'show', 'rollback-app')).code, 1);
  t.is((await instance.admin('service-account', 'show', 'rollback-one')).code, 1);
  t.is(await auditCount(), before);
});

test.serial('certificates and JWKS sources: from files next to the seed file, idempotent, a new key replaces the certificate, exported inline', async (t) => {
  const { generateKeyPairSync, randomUUID } = await import('node:crypto');
  const { exportJWK, SignJWT } = await import('jose');
  const ownKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const partnerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(instance.dir, 'partner.pem'), ownKey.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  writeFileSync(join(instance.dir, 'acme.jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(partnerKey.publicKey)), kid: 'acme-1', alg: 'ES256', use: 'sig' }] }));
  const text = `
applications:
  - client_id: partner
    audiences: [https://orders.example]
    grants: [client_credentials, jwt-bearer]
certificates:
  - name: partner-key
    apps: [partner]
    file: partner.pem
jwks_sources:
  - name: acme
    apps: [partner]
    file: acme.jwks.json
    issuer: https://acme.example
    algorithms: [ES256]
    subject_prefix: "acme:"
`;
  const applied = await seed(file(text));
  t.deepEqual(actions(applied), { 'application:partner': 'create', 'certificate:partner-key': 'create', 'jwks_source:acme': 'create' });
  t.true((await seed(file(text))).plan.every((e) => e.action === 'unchanged'), 'applying again changes nothing');
  // the certificate verifies the application's own assertion (private_key_jwt) on the running server
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ iss: 'partner', sub: 'partner', aud: 'https://issuer.tokenmint.test', iat: now, exp: now + 60, jti: randomUUID() }).setProtectedHeader({ alg: 'ES256' }).sign(ownKey.privateKey);
  const own = await untilPropagated(() => instance.token({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }), (r) => r.status === 200);
  t.is(own.status, 200);
  // and the JWKS source verifies the partner's JWTs for the jwt-bearer grant
  const partnerJwt = await new SignJWT({ iss: 'https://acme.example', sub: 'robot', aud: 'https://issuer.tokenmint.test', iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'acme-1' }).sign(partnerKey.privateKey);
  const exchanged = await instance.token({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: partnerJwt, client_id: 'partner' });
  t.is(exchanged.status, 200, await exchanged.clone().text());
  // a new key in the file replaces the certificate
  writeFileSync(join(instance.dir, 'partner.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const replaced = await seed(file(text));
  t.deepEqual(replaced.plan.find((e) => e.kind === 'certificate'), { kind: 'certificate', name: 'partner-key', action: 'update', changes: ['key'] });
  const exported = (await instance.admin('export', '--format', 'json')).json<{ certificates: { name: string; pem: string }[]; jwks_sources: { name: string; jwks?: unknown }[] }>();
  t.regex(exported.certificates.find((c) => c.name === 'partner-key')!.pem, /BEGIN PUBLIC KEY/);
  t.truthy(exported.jwks_sources.find((s) => s.name === 'acme')!.jwks);
});

test.serial('policies are evaluated in the order of the file, and reordering them in the file is an update', async (t) => {
  const { decodeJwt } = await import('jose');
  const policies = (first: string, second: string) => `
applications:
  - client_id: tiered
    client_secret: generate
    audiences: [https://orders.example]
policies:
  - name: ${first}
    apps: [tiered]
    kind: claims
    expression: '{"tier": "${first.replace('tier-', '')}"}'
  - name: ${second}
    apps: [tiered]
    kind: claims
    expression: '{"tier": "${second.replace('tier-', '')}"}'
`;
  const created = await seed(file(policies('tier-gold', 'tier-silver')));
  const secret = created.secrets.tiered!;
  const tier = async () => {
    const response = await untilPropagated(() => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('tiered', secret) }), (r) => r.status === 200);
    return decodeJwt(((await response.json()) as { access_token: string }).access_token).tier;
  };
  // a later claims policy overrides an earlier one
  t.is(await tier(), 'silver');
  const reordered = await seed(file(policies('tier-silver', 'tier-gold')));
  t.true(reordered.plan.some((e) => e.kind === 'policy' && e.action === 'update' && e.changes?.includes('order')));
  t.is(await untilPropagated(tier, (value) => value === 'gold'), 'gold');
  t.true((await seed(file(policies('tier-silver', 'tier-gold')))).plan.every((e) => e.action === 'unchanged'));
});

test.serial('export, apply to an empty database, export again: the two exports are identical', async (t) => {
  const first = await instance.admin('export');
  t.is(first.code, 0);
  t.false(/tmcs_|tmap_|PRIVATE/.test(first.stdout), 'no secret in the export');
  const empty = await startInstance();
  try {
    const path = join(empty.dir, 'exported.yaml');
    writeFileSync(path, first.stdout);
    const applied = await empty.admin('seed', path, '--json');
    t.is(applied.code, 0, applied.stderr);
    const second = await empty.admin('export');
    t.is(second.stdout, first.stdout);
    const json = await empty.admin('export', '--format', 'json');
    t.deepEqual(Object.keys(JSON.parse(json.stdout)), ['applications', 'service_accounts', 'certificates', 'jwks_sources', 'policies']);
  } finally {
    await empty.close();
  }
});
