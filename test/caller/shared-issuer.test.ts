// One issuer serving several tenants (a CI provider, a cluster used by two teams): each application has
// a source of the same issuer and key set, told apart by audience. Without client_id, the JWT goes to
// the source whose rules it meets; failures of one team never throttle another.
import test, { type ExecutionContext } from 'ava';
import { ExternalIssuer, issuerKey } from '../helpers/external-issuer.ts';
import { startInstance, type Instance } from '../helpers/instance.ts';
import { granted } from '../helpers/responses.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ci = new ExternalIssuer('https://ci.example');
const other = new ExternalIssuer('https://other-ci.example');
const staleTeam = new ExternalIssuer('https://stale-ci.example');
let instance: Instance;

test.before(async () => {
  // three failures per caller and minute, plenty per address
  instance = await startInstance({ AUTH_FAILURES_PER_MINUTE: '3', AUTH_FAILURES_PER_MINUTE_PER_ADDRESS: '1000' });
  ci.keys.push(await issuerKey('ES256'));
  other.keys.push(await issuerKey('ES256'));
  staleTeam.keys.push(await issuerKey('ES256'));
  const ciFile = ci.jwksFile(instance.dir);
  for (const argv of [
    ['app', 'create', 'build', '--grants', 'client_credentials,jwt-bearer', '--audiences', 'https://api.example'],
    ['app', 'create', 'deploy', '--grants', 'client_credentials,jwt-bearer', '--audiences', 'https://api.example'],
    ['app', 'create', 'elsewhere', '--grants', 'client_credentials', '--audiences', 'https://api.example'],
    ['jwks', 'add', 'ci-build', '--file', ciFile, '--issuer', ci.issuer, '--app', 'build', '--audiences', 'https://build.example', '--subject-prefix', 'build:'],
    ['jwks', 'add', 'ci-deploy', '--file', ciFile, '--issuer', ci.issuer, '--app', 'deploy', '--audiences', 'https://deploy.example', '--subject-prefix', 'deploy:'],
    ['jwks', 'add', 'other', '--file', other.jwksFile(instance.dir), '--issuer', other.issuer, '--app', 'elsewhere', '--subject-prefix', 'other:'],
    ['jwks', 'add', 'stale', '--file', staleTeam.jwksFile(instance.dir), '--issuer', staleTeam.issuer, '--app', 'elsewhere', '--subject-prefix', 'stale:'],
  ]) {
    const run = await instance.admin(...argv);
    if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
  }
});
test.after.always(() => instance?.close());

const assertion = (jwt: string, extra: Record<string, string> = {}) =>
  instance.token({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: jwt, ...extra });

for (const tenant of ['build', 'deploy']) {
  test(`a ${tenant} token without client_id reaches the ${tenant} application, whichever source is tried first`, async (t) => {
    const jwt = () => ci.sign({ aud: `https://${tenant}.example`, sub: 'job' });
    const viaAssertion = await granted(t, await assertion(await jwt()));
    t.is(viaAssertion.client_id, tenant);
    t.is(viaAssertion.sub, `${tenant}:job`);
    const viaBearer = await granted(t, await instance.token({ grant_type: JWT_BEARER, assertion: await jwt() }));
    t.is(viaBearer.client_id, tenant);
  });
}

async function status(res: Response): Promise<number> {
  await res.arrayBuffer();
  return res.status;
}

test('a token addressed to neither tenant is refused and written under neither', async (t: ExecutionContext) => {
  const stray = await ci.sign({ aud: 'https://somewhere.example', sub: 'stray-job' });
  t.is(await status(await assertion(stray)), 401);
  t.is(await status(await instance.token({ grant_type: JWT_BEARER, assertion: stray })), 400);
  await new Promise((r) => setTimeout(r, 1500));
  for (const app of ['build', 'deploy']) {
    const rows = (await instance.admin('audit', 'list', '--app', app, '--json')).json<{ reason: string | null }[]>();
    t.false(rows.some((r) => /aud does not name/.test(r.reason ?? '')), app);
  }
});

test("one team's stale tokens are throttled without throttling another issuer's, or malformed client_ids", async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const stale = () => staleTeam.sign({ iat: now - 900, exp: now - 600 });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push(await status(await assertion(await stale())));
  t.deepEqual(statuses, [401, 401, 401, 429, 429]);
  for (let i = 0; i < 5; i++) await status(await instance.token({ grant_type: 'client_credentials', client_id: 'bad id!', client_secret: 'x' }));
  // another issuer's workload from the same address is not the stale team
  t.is(await status(await assertion(await other.sign({ sub: 'fine-job' }))), 200);
});
