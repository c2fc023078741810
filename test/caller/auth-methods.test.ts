// Per-application client authentication methods (RFC 7591 token_endpoint_auth_method, as a list).
import test from 'ava';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { basic, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let instance: Instance;
let secret: string;
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

test.before(async () => {
  instance = await startInstance();
  const created = await instance.admin('app', 'create', 'basic-only', '--secret', '--json', '--audiences', 'https://api.example', '--auth-methods', 'client_secret_basic');
  if (created.code !== 0) throw new Error(created.stderr);
  secret = created.json<{ client_secret: string }>().client_secret;
  const file = join(instance.dir, 'basic-only.pem');
  writeFileSync(file, keys.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const cert = await instance.admin('cert', 'add', 'basic-only-key', '--file', file, '--app', 'basic-only');
  if (cert.code !== 0) throw new Error(cert.stderr);
});
test.after.always(() => instance?.close());

const post = (value = secret) => instance.token({ grant_type: 'client_credentials', client_id: 'basic-only', client_secret: value });
const viaBasic = (value = secret) => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('basic-only', value) });
async function viaAssertion(): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ iss: 'basic-only', sub: 'basic-only', aud: TEST_ISSUER, iat: now, exp: now + 60, jti: randomUUID() }).setProtectedHeader({ alg: 'ES256' }).sign(keys.privateKey);
  return instance.token({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
}

async function reasons(): Promise<string[]> {
  const rows = (await instance.admin('audit', 'list', '--app', 'basic-only', '--json')).json<{ reason: string | null }[]>();
  return rows.map((r) => r.reason ?? '');
}

test.serial('a method the application does not allow is invalid_client, audited with that reason; an allowed one works', async (t) => {
  t.is((await viaBasic()).status, 200);
  const refused = await post();
  t.is(refused.status, 401);
  t.is(((await refused.json()) as { error: string }).error, 'invalid_client');
  const assertion = await viaAssertion();
  t.is(assertion.status, 401);
  const seen = await untilPropagated(reasons, (r) => r.some((x) => x.includes('client_secret_post is not allowed')) && r.some((x) => x.includes('private_key_jwt is not allowed')), 5000);
  t.true(seen.some((r) => r === 'client_secret_post is not allowed for this application'));
  t.true(seen.some((r) => r === 'private_key_jwt is not allowed for this application'));
});

test.serial('a wrong secret with a method not allowed is refused as a wrong secret: a guess learns nothing of the methods', async (t) => {
  const wrong = `${secret.slice(0, -4)}AAAA`;
  t.is((await post(wrong)).status, 401);
  const seen = await untilPropagated(reasons, (r) => r.filter((x) => x === 'secret does not match').length > 0, 5000);
  t.true(seen.includes('secret does not match'));
});

test.serial('app show lists the methods; app update changes them and default returns to what it has credentials for', async (t) => {
  const shown = (await instance.admin('app', 'show', 'basic-only', '--json')).json<{ auth_methods: string[] | null }>();
  t.deepEqual(shown.auth_methods, ['client_secret_basic']);
  t.is((await instance.admin('app', 'update', 'basic-only', '--auth-methods', 'client_secret_post,private_key_jwt')).code, 0);
  t.is((await untilPropagated(() => post(), (r) => r.status === 200)).status, 200);
  t.is((await viaAssertion()).status, 200);
  t.is((await viaBasic()).status, 401);
  t.is((await instance.admin('app', 'update', 'basic-only', '--auth-methods', 'default')).code, 0);
  t.is((await untilPropagated(() => viaBasic(), (r) => r.status === 200)).status, 200);
  t.is((await instance.admin('app', 'show', 'basic-only', '--json')).json<{ auth_methods: unknown }>().auth_methods, null);
  const events = (await instance.admin('audit', 'list', '--app', 'basic-only', '--json')).json<{ action: string; details: Record<string, unknown> | null }[]>();
  t.true(events.some((e) => e.action === 'app.updated' && JSON.stringify(e.details).includes('auth_methods')));
});

test('an unknown method, none, or an empty list is refused by the CLI', async (t) => {
  for (const bad of ['none', 'client_secret_jwt', 'tls_client_auth', '']) {
    const run = await instance.admin('app', 'create', `m-${randomUUID().slice(0, 8)}`, '--audiences', 'https://api.example', '--auth-methods', bad);
    t.is(run.code, 1, bad);
    t.regex(run.stderr, /^error: .*auth method/, bad);
  }
  t.is((await instance.admin('app', 'create', 'm-default', '--audiences', 'https://api.example', '--auth-methods', 'default')).code, 1);
});
