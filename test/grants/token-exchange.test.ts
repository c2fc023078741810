import test, { type ExecutionContext } from 'ava';
import { decodeJwt } from 'jose';
import { ExternalIssuer, issuerKey } from '../helpers/external-issuer.ts';
import { basic, startInstance, TEST_ISSUER, type Instance } from '../helpers/instance.ts';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TYPE = 'urn:ietf:params:oauth:token-type:';
let instance: Instance;
let exchangerSecret: string;
const workloads = new ExternalIssuer('https://workloads.example');
const idp = new ExternalIssuer('https://idp.example');
const bearerOnly = new ExternalIssuer('https://bearer-only.example');

test.before(async () => {
  instance = await startInstance();
  for (const external of [workloads, idp, bearerOnly]) external.keys.push(await issuerKey('ES256'));
  const file = (external: ExternalIssuer) => external.jwksFile(instance.dir);
  for (const argv of [
    ['app', 'create', 'exchanger', '--secret', '--json', '--grants', 'token-exchange,client_credentials', '--scopes', 'read write', '--default-scopes', 'read', '--audiences', 'https://api.example,https://other.example'],
    ['app', 'create', 'rp', '--grants', 'token-exchange', '--audiences', 'https://api.example'],
    ['app', 'create', 'bearer-only', '--grants', 'jwt-bearer', '--audiences', 'https://api.example'],
    ['jwks', 'add', 'workloads', '--file', file(workloads), '--issuer', workloads.issuer, '--app', 'exchanger', '--subject-prefix', 'wl:'],
    // an ID token is addressed to the relying party's client_id, not to this issuer
    ['jwks', 'add', 'idp', '--file', file(idp), '--issuer', idp.issuer, '--app', 'rp', '--audiences', 'tokenmint-rp', '--subject-prefix', 'idp:'],
    ['jwks', 'add', 'bearer-only', '--file', file(bearerOnly), '--issuer', bearerOnly.issuer, '--app', 'bearer-only'],
  ]) {
    const run = await instance.admin(...argv);
    if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
    if (argv[2] === 'exchanger') exchangerSecret = run.json<{ client_secret: string }>().client_secret;
  }
});
test.after.always(() => instance?.close());

type Body = Record<string, string>;

async function refused(t: ExecutionContext, res: Response, status: number, error: string): Promise<Body> {
  const body = (await res.json()) as Body;
  t.is(res.status, status, JSON.stringify(body));
  t.is(body.error, error);
  t.is(body.access_token, undefined);
  return body;
}

async function exchanged(t: ExecutionContext, res: Response): Promise<Body> {
  const body = (await res.json()) as Body;
  t.is(res.status, 200, JSON.stringify(body));
  return body;
}

const exchange = async (form: Record<string, string>) => instance.token({ grant_type: TOKEN_EXCHANGE, ...form });
const jwtSubject = async (claims = {}) => ({ subject_token: await workloads.sign(claims), subject_token_type: `${TYPE}jwt` });

test('a JWT subject token is exchanged for an access token of this issuer', async (t) => {
  const body = await exchanged(t, await exchange({ ...(await jwtSubject({ sub: 'job-7' })) }));
  t.is(body.issued_token_type, `${TYPE}access_token`);
  t.is(body.token_type, 'Bearer');
  const claims = decodeJwt(body.access_token!);
  t.is(claims.iss, TEST_ISSUER);
  t.is(claims.sub, 'wl:job-7');
  t.is(claims.client_id, 'exchanger');
  t.is(claims.src_iss, 'https://workloads.example');
  t.is(claims.scope, 'read');
  t.deepEqual([claims.aud].flat(), ['https://api.example']);
});

test('requested_token_type jwt is echoed as issued_token_type', async (t) => {
  const body = await exchanged(t, await exchange({ ...(await jwtSubject()), client_id: 'exchanger', requested_token_type: `${TYPE}jwt` }));
  t.is(body.issued_token_type, `${TYPE}jwt`);
  t.is(decodeJwt(body.access_token!).client_id, 'exchanger');
  const explicit = await exchanged(t, await exchange({ ...(await jwtSubject()), requested_token_type: `${TYPE}access_token` }));
  t.is(explicit.issued_token_type, `${TYPE}access_token`);
});

test('a requested_token_type this issuer cannot issue is invalid_request', async (t) => {
  for (const requested of [`${TYPE}refresh_token`, `${TYPE}id_token`, `${TYPE}saml2`, 'urn:example:other']) {
    await refused(t, await exchange({ ...(await jwtSubject()), requested_token_type: requested }), 400, 'invalid_request');
  }
});

test('a missing subject_token or subject_token_type, or an unknown subject_token_type, is invalid_request', async (t) => {
  const { subject_token, subject_token_type } = await jwtSubject();
  await refused(t, await exchange({ subject_token_type }), 400, 'invalid_request');
  await refused(t, await exchange({ subject_token }), 400, 'invalid_request');
  await refused(t, await exchange({ subject_token, subject_token_type: '' }), 400, 'invalid_request');
  for (const unknown of [`${TYPE}saml2`, `${TYPE}refresh_token`, 'urn:example:jwt', 'jwt']) {
    await refused(t, await exchange({ subject_token, subject_token_type: unknown }), 400, 'invalid_request');
  }
  // the subject token itself was fine all along
  await exchanged(t, await exchange({ subject_token, subject_token_type }));
});

test('an actor token (delegation) is invalid_request', async (t) => {
  const actor_token = await workloads.sign({ sub: 'actor' });
  await refused(t, await exchange({ ...(await jwtSubject()), actor_token, actor_token_type: `${TYPE}jwt` }), 400, 'invalid_request');
  await refused(t, await exchange({ ...(await jwtSubject()), actor_token }), 400, 'invalid_request');
  await refused(t, await exchange({ ...(await jwtSubject()), actor_token_type: `${TYPE}jwt` }), 400, 'invalid_request');
});

test('an external access token (typ at+jwt) is accepted only as subject_token_type access_token', async (t) => {
  const accessToken = await workloads.sign({ sub: 'api-caller' }, { header: { typ: 'at+jwt' } });
  const body = await exchanged(t, await exchange({ subject_token: accessToken, subject_token_type: `${TYPE}access_token` }));
  t.is(decodeJwt(body.access_token!).sub, 'wl:api-caller');
  t.is(body.issued_token_type, `${TYPE}access_token`);
  await refused(t, await exchange({ subject_token: accessToken, subject_token_type: `${TYPE}jwt` }), 400, 'invalid_grant');
  await refused(t, await exchange({ subject_token: accessToken, subject_token_type: `${TYPE}id_token` }), 400, 'invalid_grant');
  const applicationType = await workloads.sign({ sub: 'api-caller' }, { header: { typ: 'application/at+jwt' } });
  await refused(t, await exchange({ subject_token: applicationType, subject_token_type: `${TYPE}jwt` }), 400, 'invalid_grant');
});

test('an ID token is exchanged through a source whose --audiences is the ID token aud', async (t) => {
  const idToken = await idp.sign({ sub: 'user-42', aud: 'tokenmint-rp', nonce: 'n-0S6_WzA2Mj' });
  const body = await exchanged(t, await exchange({ subject_token: idToken, subject_token_type: `${TYPE}id_token` }));
  const claims = decodeJwt(body.access_token!);
  t.is(claims.sub, 'idp:user-42');
  t.is(claims.client_id, 'rp');
  t.is(claims.src_iss, 'https://idp.example');
  t.is(claims.nonce, undefined);
  await refused(t, await exchange({ subject_token: await idp.sign({ aud: TEST_ISSUER }), subject_token_type: `${TYPE}id_token` }), 400, 'invalid_grant');
});

test('an application without the token-exchange grant is unauthorized_client', async (t) => {
  const subject_token = await bearerOnly.sign();
  await refused(t, await exchange({ subject_token, subject_token_type: `${TYPE}jwt` }), 400, 'unauthorized_client');
  await refused(t, await exchange({ subject_token, subject_token_type: `${TYPE}jwt`, client_id: 'bearer-only' }), 400, 'unauthorized_client');
});

test('the audience parameter must be allowed for the application', async (t) => {
  await refused(t, await exchange({ ...(await jwtSubject()), audience: 'https://nope.example' }), 400, 'invalid_target');
  await refused(t, await exchange({ ...(await jwtSubject()), resource: 'https://nope.example' }), 400, 'invalid_target');
  const body = await exchanged(t, await exchange({ ...(await jwtSubject()), audience: 'https://other.example' }));
  t.deepEqual([decodeJwt(body.access_token!).aud].flat(), ['https://other.example']);
  await refused(t, await exchange({ ...(await jwtSubject()), scope: 'admin' }), 400, 'invalid_scope');
});

test('a subject token that fails verification is invalid_grant', async (t) => {
  await refused(t, await exchange(await jwtSubject({ aud: 'https://elsewhere.example' })), 400, 'invalid_grant');
  await refused(t, await exchange(await jwtSubject({ iss: 'https://impostor.example' })), 400, 'invalid_grant');
  await refused(t, await exchange({ subject_token: 'not-a-jwt', subject_token_type: `${TYPE}jwt` }), 400, 'invalid_grant');
});

test('an access token of this issuer is refused as a subject token, whatever its declared type', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('exchanger', exchangerSecret) });
  const own = ((await res.json()) as Body).access_token ?? '';
  t.is(res.status, 200);
  for (const type of ['access_token', 'jwt']) {
    await refused(t, await exchange({ subject_token: own, subject_token_type: `${TYPE}${type}`, client_id: 'exchanger' }), 400, 'invalid_grant');
  }
});
