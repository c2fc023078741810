import test from 'ava';
import { randomBytes } from 'node:crypto';
import { ExternalIssuer, issuerKey } from '../helpers/external-issuer.ts';
import { basic, startInstance, type Instance } from '../helpers/instance.ts';
import { counterValue, samples, scrape } from '../helpers/metrics.ts';

// The token request series are counted per process and this file's tests read them before and
// after what they do: they run one at a time.

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const workload = new ExternalIssuer('https://workload.example');
let instance: Instance;
let secret: string;
let appPassword: string;

test.before(async () => {
  // cheap argon2: the flood below verifies hundreds of unknown secrets
  instance = await startInstance({ ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' });
  workload.keys.push(await issuerKey('ES256'));
  const created = await instance.admin('app', 'create', 'metered', '--secret', '--json', '--grants', 'client_credentials,jwt-bearer', '--scopes', 'read', '--audiences', 'https://api.example');
  if (created.code !== 0) throw new Error(created.stderr);
  secret = created.json<{ client_secret: string }>().client_secret;
  const account = await instance.admin('service-account', 'create', 'meter-job', '--app', 'metered', '--json');
  if (account.code !== 0) throw new Error(account.stderr);
  appPassword = account.json<{ app_password: string }>().app_password;
  const source = await instance.admin('jwks', 'add', 'workloads', '--file', workload.jwksFile(instance.dir), '--issuer', workload.issuer, '--app', 'metered', '--subject-prefix', 'wl:');
  if (source.code !== 0) throw new Error(source.stderr);
});
test.after.always(() => instance?.close());

const requests = (text: string, grantType: string, authMethod: string, outcome: string) => counterValue(text, 'tokenmint_token_requests_total', { grant_type: grantType, auth_method: authMethod, outcome });
const timed = (text: string, grantType: string, result: string) => counterValue(text, 'tokenmint_token_request_duration_seconds_count', { grant_type: grantType, result });
const tokenSeries = (text: string) => samples(text).filter((s) => s.name.startsWith('tokenmint_token_request')).length;

async function statuses(...sent: Promise<Response>[]): Promise<number[]> {
  return Promise.all(sent.map(async (r) => (await r).status));
}

test.serial('each token request is counted once, by grant type, the authentication method presented and its outcome, and timed', async (t) => {
  const before = await scrape(instance.url);
  const wrong = `${secret.slice(0, -4)}AAAA`;
  const sent = await statuses(
    ...Array.from({ length: 3 }, () => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('metered', secret) })),
    ...Array.from({ length: 2 }, () => instance.token({ grant_type: 'client_credentials', client_id: 'metered', client_secret: secret })),
    ...Array.from({ length: 2 }, () => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('metered', wrong) })),
    instance.token({ grant_type: 'password', client_id: 'metered', username: 'meter-job', password: appPassword }),
    instance.token({ grant_type: JWT_BEARER, assertion: await workload.sign() }),
    instance.token({ grant_type: 'client_credentials', client_id: 'metered', client_assertion_type: ASSERTION_TYPE, client_assertion: await workload.sign() }),
    instance.token({ grant_type: 'urn:example:not-a-grant' }),
    instance.token({ scope: 'read' }),
    fetch(`${instance.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' }),
  );
  t.deepEqual(sent, [200, 200, 200, 200, 200, 401, 401, 200, 200, 200, 400, 400, 400]);
  const after = await scrape(instance.url);
  const delta = (grantType: string, authMethod: string, outcome: string) => requests(after, grantType, authMethod, outcome) - requests(before, grantType, authMethod, outcome);
  t.is(delta('client_credentials', 'client_secret_basic', 'issued'), 3);
  t.is(delta('client_credentials', 'client_secret_post', 'issued'), 2);
  t.is(delta('client_credentials', 'client_secret_basic', 'invalid_client'), 2);
  t.is(delta('password', 'app_password', 'issued'), 1);
  t.is(delta(JWT_BEARER, 'none', 'issued'), 1);
  t.is(delta('client_credentials', 'client_assertion', 'issued'), 1);
  t.is(delta('other', 'none', 'unsupported_grant_type'), 1);
  t.is(delta('other', 'none', 'invalid_request'), 2);
  const all = (text: string) => samples(text).filter((s) => s.name === 'tokenmint_token_requests_total').reduce((n, s) => n + s.value, 0);
  t.is(all(after) - all(before), sent.length, 'nothing else was counted');
  t.is(timed(after, 'client_credentials', 'issued') - timed(before, 'client_credentials', 'issued'), 6);
  t.is(timed(after, 'client_credentials', 'refused') - timed(before, 'client_credentials', 'refused'), 2);
  t.is(timed(after, 'other', 'refused') - timed(before, 'other', 'refused'), 3);
  const sum = (text: string) => counterValue(text, 'tokenmint_token_request_duration_seconds_sum', { grant_type: 'client_credentials', result: 'issued' });
  t.true(sum(after) > sum(before));
});

test.serial('attack: the metrics on the main port carry no secret, client_id, username, address or other input of a caller', async (t) => {
  const marker = (what: string) => `leak${what}${randomBytes(4).toString('hex')}`;
  const inputs = { client: marker('client'), user: marker('user'), grant: marker('grant'), scope: marker('scope'), audience: `https://${marker('aud')}.example`, requestId: marker('rid'), sub: marker('sub') };
  await statuses(
    instance.token({ grant_type: 'client_credentials', scope: inputs.scope, audience: inputs.audience }, { authorization: basic('metered', secret), 'x-request-id': inputs.requestId }),
    instance.token({ grant_type: 'client_credentials' }, { authorization: basic(inputs.client, secret) }),
    instance.token({ grant_type: 'client_credentials', client_id: inputs.client, client_secret: 'tmcs_abcdefghijkmnpqr_leaked' }),
    instance.token({ grant_type: 'client_credentials', client_id: 'metered', username: inputs.user, password: appPassword }),
    instance.token({ grant_type: inputs.grant, client_id: inputs.client }),
    instance.token({ grant_type: JWT_BEARER, assertion: await workload.sign({ sub: inputs.sub }) }),
  );
  const text = await scrape(instance.url);
  for (const value of [...Object.values(inputs), secret, appPassword, 'tmcs_', 'tmap_', 'metered', 'meter-job', '127.0.0.1', 'eyJ']) {
    t.false(text.includes(value), `${value} is on /metrics`);
  }
});

test.serial('attack: a flood of garbage grant types and unknown clients adds no series', async (t) => {
  const garbage = () => randomBytes(6).toString('hex');
  const flood = (n: number) =>
    statuses(
      ...Array.from({ length: n }, () => instance.token({ grant_type: `urn:${garbage()}`, client_id: garbage() })),
      ...Array.from({ length: n }, () => instance.token({ grant_type: 'client_credentials' }, { authorization: basic(garbage(), `tmcs_${garbage()}`) })),
      ...Array.from({ length: n }, () => instance.token({ grant_type: 'client_credentials', client_id: garbage(), username: garbage(), password: garbage() })),
      ...Array.from({ length: n }, () => instance.token({ grant_type: JWT_BEARER, assertion: `${garbage()}.${garbage()}.${garbage()}` })),
    );
  // every kind once, so that its series exist
  await flood(1);
  const before = await scrape(instance.url);
  const answered = await flood(50);
  t.true(answered.every((s) => s === 400 || s === 401), answered.join());
  const after = await scrape(instance.url);
  t.is(tokenSeries(after), tokenSeries(before));
  t.is(samples(after).filter((s) => s.name.startsWith('tokenmint_')).length, samples(before).filter((s) => s.name.startsWith('tokenmint_')).length);
  const all = (text: string) => samples(text).filter((s) => s.name === 'tokenmint_token_requests_total').reduce((n, s) => n + s.value, 0);
  t.is(all(after) - all(before), answered.length, 'every one of them counted');
});
