// Attacks on POST /introspect and POST /revoke, against the real server.
import test from 'ava';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeJwt, SignJWT } from 'jose';
import { createLogger } from '../../src/logger.ts';
import { serve, type Serving } from '../../src/serve.ts';
import { basic, capturingLogger, createApp, prepareDatabase, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_ACCEPT = { accept: 'application/token-introspection+jwt' };
let instance: Instance;
const secrets: Record<string, string> = {};
const appKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

test.before(async () => {
  instance = await startInstance();
  secrets.billing = await createApp(instance, 'billing');
  const rs = await instance.admin('app', 'create', 'api-rs', '--secret', '--audiences', 'https://api.example', '--json');
  if (rs.code !== 0) throw new Error(rs.stderr);
  secrets['api-rs'] = rs.json<{ client_secret: string }>().client_secret;
  const file = join(instance.dir, 'keyed.pem');
  writeFileSync(file, appKey.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  if ((await instance.admin('app', 'create', 'keyed', '--audiences', 'https://api.example')).code !== 0) throw new Error('keyed');
  if ((await instance.admin('cert', 'add', 'keyed-key', '--file', file, '--app', 'keyed')).code !== 0) throw new Error('cert');
});
test.after.always(() => instance?.close());

const auth = (clientId: string) => ({ authorization: basic(clientId, secrets[clientId]!) });

async function tokenFor(clientId: string, extra: Record<string, string> = {}): Promise<string> {
  const response = await instance.token({ grant_type: 'client_credentials', ...extra }, auth(clientId));
  if (response.status !== 200) throw new Error(await response.text());
  return ((await response.json()) as { access_token: string }).access_token;
}

async function answer(caller: string, token: string): Promise<Record<string, unknown>> {
  const response = await instance.post('/introspect', { token }, auth(caller));
  if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

test.serial('a disabled or deleted service account\'s tokens are inactive at introspection', async (t) => {
  secrets['svc-app'] = await createApp(instance, 'svc-app');
  const created = await instance.admin('service-account', 'create', 'nightly', '--app', 'svc-app', '--permissions', 'billing:write', '--json');
  t.is(created.code, 0, created.stderr);
  const password = created.json<{ app_password?: string }>().app_password ?? (await instance.admin('app-password', 'create', 'nightly', '--json')).json<{ app_password: string }>().app_password;
  const response = await instance.token({ grant_type: 'client_credentials', client_id: 'svc-app', username: 'nightly', password });
  t.is(response.status, 200, await response.clone().text());
  const token = ((await response.json()) as { access_token: string }).access_token;
  t.is(decodeJwt(token).sub, 'nightly');
  t.true((await answer('api-rs', token)).active);
  t.is((await instance.admin('service-account', 'disable', 'nightly')).code, 0);
  // the account can no longer get tokens...
  const refused = await untilPropagated(
    () => instance.token({ grant_type: 'client_credentials', client_id: 'svc-app', username: 'nightly', password }),
    (r) => r.status !== 200,
  );
  t.not(refused.status, 200);
  // ...but the token it holds is still active, with its permissions, for every resource server
  const whileDisabled = await untilPropagated(() => answer('api-rs', token), (a) => a.active === false);
  t.is((await instance.admin('service-account', 'delete', 'nightly')).code, 0);
  const afterDeletion = await untilPropagated(() => answer('api-rs', token), (a) => a.active === false);
  t.deepEqual([whileDisabled.active, afterDeletion.active], [false, false], 'the token of a disabled, then deleted, service account is still active (with its permissions)');
});

/** Every SQL statement any connection of this process prepares while `run` runs. */
async function statementsDuring(run: () => Promise<void>): Promise<string[]> {
  const proto = Database.prototype as unknown as { prepare: (sql: string) => unknown };
  const original = proto.prepare;
  const seen: string[] = [];
  proto.prepare = function (this: unknown, sql: string) {
    seen.push(sql);
    return original.call(this, sql);
  };
  try {
    await run();
  } finally {
    proto.prepare = original;
  }
  return seen;
}

const BACKGROUND = /state_version|token_revocations|audit_events|"main"\.|PRAGMA|BEGIN|COMMIT/i;

test.serial('once warm, an introspection makes no database round trip (secret auth, issued-to and audience paths)', async (t) => {
  // the earlier tests' last admin change is seen now, not in the middle of the count below
  await instance.serving.deps.state.poll();
  const token = await tokenFor('billing');
  for (let i = 0; i < 3; i++) {
    t.true((await answer('billing', token)).active);
    t.true((await answer('api-rs', token)).active);
  }
  const sql = await statementsDuring(async () => {
    // at least 20 rounds, and long enough for the background polls (every 100 ms) to run in it
    const started = Date.now();
    for (let i = 0; i < 20 || Date.now() - started < 400; i++) {
      await answer('billing', token);
      await answer('api-rs', token);
    }
  });
  t.true(sql.length > 0, "the counter sees the background polls");
  t.log(sql.length, [...new Set(sql)].map((s) => s.slice(0, 80)));
  const perRequest = sql.filter((s) => !BACKGROUND.test(s));
  t.deepEqual(perRequest, [], perRequest.slice(0, 3).join('\n'));
});

test.serial('bad input never gives a 500 at /introspect or /revoke', async (t) => {
  const a = auth('billing').authorization;
  const bodies: [string, Record<string, string>][] = [
    ['token=%', {}],
    ['token=%E0%A4%A', {}],
    ['token=a.b.c&token_type_hint=%00', {}],
    [`token=${'a'.repeat(31_000)}`, {}],
    [`token=${'x.'.repeat(8000)}x`, {}],
    ['token[]=a&token[b]=c&token=d', {}],
    ['token=\u{1F600}.\u{1F600}.\u{1F600}', {}],
    [`token=${Buffer.from('{"alg":"RS256","kid":{"a":1},"typ":"at+jwt"}').toString('base64url')}.e30.AAAA`, {}],
    [`token=${Buffer.from('{"alg":"RS256","kid":"x","typ":["at+jwt"]}').toString('base64url')}.e30.AAAA`, {}],
    [`token=${Buffer.from('[]').toString('base64url')}.e30.AAAA`, {}],
    [`token=${Buffer.from('null').toString('base64url')}.e30.AAAA`, {}],
    ['token=x', { accept: 'application/token-introspection+jwt;q=abc, */*;q=' }],
    ['token=x', { accept: `${'application/token-introspection+jwt;q=0.5,'.repeat(300)}` }],
    ['token=x', { accept: 'application/token-introspection+JWT' }],
    ['token=x', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16' }],
    ['token=x', { authorization: 'Basic %%%' }],
    ['token=x', { authorization: `Basic ${Buffer.from('%ZZ:x').toString('base64')}` }],
    ['token=x', { authorization: `Basic ${Buffer.from(':x').toString('base64')}` }],
    ['token=x', { authorization: `Bearer ${'a'.repeat(100)}` }],
    ['token=x&client_assertion_type=' + encodeURIComponent(ASSERTION_TYPE) + '&client_assertion=a.b.c', { authorization: '' }],
    ['token=x&client_assertion_type=' + encodeURIComponent(ASSERTION_TYPE) + '&client_assertion=' + 'e30.e30.', { authorization: '' }],
    ['token=x&client_id=%F0%9F%98%80&client_secret=s', { authorization: '' }],
    ['token=x&client_id=' + 'a'.repeat(5000) + '&client_secret=s', { authorization: '' }],
  ];
  const key = (await (async () => decodeJwt(await tokenFor('billing')))());
  t.truthy(key.jti);
  for (const path of ['/introspect', '/revoke']) {
    for (const [body, headers] of bodies) {
      const h: Record<string, string> = { authorization: a, ...headers };
      if (h.authorization === '') delete h.authorization;
      const response = await instance.post(path, body, h);
      t.true(response.status < 500 || response.status === 503, `${path} ${body.slice(0, 60)} ${JSON.stringify(headers).slice(0, 60)} -> ${response.status} ${(await response.text()).slice(0, 100)}`);
    }
  }
});

test.serial('the RFC 9701 answer is never accepted as a client assertion, a jwt-bearer assertion, a subject token or an access token', async (t) => {
  const token = await tokenFor('billing');
  const signed = await (await instance.post('/introspect', { token }, { ...auth('billing'), ...JWT_ACCEPT })).text();
  t.is(decodeJwt(signed).iss, TEST_ISSUER);
  const attempts: Record<string, string>[] = [
    { grant_type: 'client_credentials', client_id: 'billing', client_assertion_type: ASSERTION_TYPE, client_assertion: signed },
    { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: signed },
    { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: signed, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' },
  ];
  for (const form of attempts) {
    const response = form.grant_type === 'urn:ietf:params:oauth:grant-type:token-exchange' ? await instance.token(form, auth('billing')) : await instance.token(form);
    t.true(response.status >= 400, `${form.grant_type}: ${response.status}`);
  }
  const asAssertion = await instance.post('/introspect', { token, client_id: 'billing', client_assertion_type: ASSERTION_TYPE, client_assertion: signed });
  t.is(asAssertion.status, 401);
  t.deepEqual(await answer('billing', signed), { active: false });
});

test.serial('a private_key_jwt caller can introspect only what its own client_id or audiences allow', async (t) => {
  const token = await tokenFor('billing', { resource: 'https://other.example' });
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ iss: 'keyed', sub: 'keyed', aud: TEST_ISSUER, iat: now, exp: now + 60, jti: randomUUID() }).setProtectedHeader({ alg: 'ES256' }).sign(appKey.privateKey);
  const response = await instance.post('/introspect', { token, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
  t.is(response.status, 200);
  t.deepEqual(await response.json(), { active: false });
});

test.serial('a federated assertion that gets tokens at /token does not authenticate at /introspect or /revoke', async (t) => {
  const partner = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...partner.publicKey.export({ format: 'jwk' }), kid: 'p1', alg: 'ES256', use: 'sig' };
  const file = join(instance.dir, 'partner.jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  t.is((await instance.admin('app', 'create', 'fed-app', '--audiences', 'https://api.example')).code, 0);
  const added = await instance.admin('jwks', 'add', 'partner', '--file', file, '--issuer', 'https://partner.example', '--app', 'fed-app', '--subject-prefix', 'partner:');
  t.is(added.code, 0, added.stderr);
  const federated = async () => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: 'https://partner.example', sub: 'job-1', aud: TEST_ISSUER, iat: now, exp: now + 300, jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'p1' }).sign(partner.privateKey);
  };
  const issued = await untilPropagated(
    async () => instance.token({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await federated() }),
    (r) => r.status === 200,
  );
  t.is(issued.status, 200, await issued.clone().text());
  const token = ((await issued.json()) as { access_token: string }).access_token;
  for (const path of ['/introspect', '/revoke']) {
    for (const form of <Record<string, string>[]>[
      { token, client_assertion_type: ASSERTION_TYPE, client_assertion: await federated() },
      { token, client_id: 'fed-app', client_assertion_type: ASSERTION_TYPE, client_assertion: await federated() },
      { token, client_id: 'fed-app', client_assertion_type: ASSERTION_TYPE, client_secret: await federated() },
    ]) {
      const response = await instance.post(path, form);
      t.is(response.status, 401, `${path} ${Object.keys(form).join(',')}`);
    }
  }
  t.true((await answer('api-rs', token)).active);
});

test.serial('a token of a deleted application is not active for a new application created with the same client_id in the same second', async (t) => {
  // start right after a second boundary: token, delete and create all fall in the same second
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
  const started = Math.floor(Date.now() / 1000);
  secrets.phoenix = await createApp(instance, 'phoenix');
  const old = await tokenFor('phoenix');
  t.is((await instance.admin('app', 'delete', 'phoenix')).code, 0);
  secrets.phoenix = await createApp(instance, 'phoenix');
  if (Math.floor(Date.now() / 1000) !== started) return t.pass('the machine was too slow to stay within one second; nothing shown');
  t.is(decodeJwt(old).iat, started);
  // the new phoenix (another team, another secret) sees the old phoenix's token as its own, and can revoke it;
  // until the server has seen the new phoenix, its secret is refused (null)
  const seen = await untilPropagated(() => answer('phoenix', old).catch(() => null), (a) => a?.active === true);
  t.deepEqual(seen, { active: false }, 'the old application\'s token should not be the new application\'s');
});

test.serial('a token the old secret gets inside the 2-second propagation window is not the re-created application\'s own', async (t) => {
  const kek = await prepareDatabase(instance.config);
  // a worker that sees admin changes after 1.5 s: inside the 2-second rule
  const slow: Serving = await serve(instance.config, createLogger('silent'), kek, { pollMs: 1500 });
  try {
    const slowToken = (form: Record<string, string>, headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${slow.port}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
    const oldSecret = await createApp(instance, 'lazarus');
    const oldAuth = { authorization: basic('lazarus', oldSecret) };
    t.is((await untilPropagated(() => slowToken({ grant_type: 'client_credentials' }, oldAuth), (r) => r.status === 200)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    t.is((await instance.admin('app', 'delete', 'lazarus')).code, 0);
    secrets.lazarus = await createApp(instance, 'lazarus');
    // the holder of the deleted application's secret, still inside the propagation window
    const late = await slowToken({ grant_type: 'client_credentials' }, oldAuth);
    if (late.status !== 200) return t.pass('the slow worker had already seen the change; nothing shown');
    const token = ((await late.json()) as { access_token: string }).access_token;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // long after the change has propagated, the new application still takes that token for its own
    t.deepEqual(await answer('lazarus', token), { active: false }, 'a token minted with the deleted application\'s secret is active for the new one');
  } finally {
    await slow.close();
  }
});

test.serial('client-auth failures at /introspect and /revoke are throttled together with /token, and audited', async (t) => {
  const other = await startInstance({ AUTH_FAILURES_PER_MINUTE: '3', AUTH_FAILURES_PER_MINUTE_PER_ADDRESS: '1000' });
  try {
    const secret = await createApp(other, 'victim');
    const wrong = { authorization: basic('victim', `${secret.slice(0, -4)}AAAA`) };
    const statuses: number[] = [];
    statuses.push((await other.post('/introspect', { token: 'x' }, wrong)).status);
    statuses.push((await other.post('/revoke', { token: 'x' }, wrong)).status);
    statuses.push((await other.token({ grant_type: 'client_credentials' }, wrong)).status);
    statuses.push((await other.post('/introspect', { token: 'x' }, wrong)).status);
    statuses.push((await other.post('/revoke', { token: 'x' }, wrong)).status);
    t.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const rows = await untilPropagated(
      async () => (await other.admin('audit', 'list', '--app', 'victim', '--json')).json<{ action: string; outcome: string; reason: string | null }[]>(),
      (r) => r.filter((e) => e.action === 'token.introspected' || e.action === 'token.revoked').length >= 2,
      5000,
    );
    t.true(rows.some((e) => e.action === 'token.introspected' && e.reason === 'secret does not match'));
    t.true(rows.some((e) => e.action === 'token.revoked' && e.reason === 'secret does not match'));
  } finally {
    await other.close();
  }
});

test.serial('no token, secret or assertion reaches the log lines or the audit table', async (t) => {
  const captured = capturingLogger('trace');
  const other = await startInstance({ LOG_LEVEL: 'trace' }, { log: captured.log });
  try {
    const secret = await createApp(other, 'loud');
    const a = { authorization: basic('loud', secret) };
    const issued = await other.token({ grant_type: 'client_credentials' }, a);
    const token = ((await issued.json()) as { access_token: string }).access_token;
    const tampered = `${token.slice(0, -8)}AAAAAAAA`;
    await other.post('/introspect', { token }, a);
    await other.post('/introspect', { token }, { ...a, ...JWT_ACCEPT });
    await other.post('/introspect', { token: tampered }, a);
    await other.post('/introspect', { token, client_id: 'loud', client_secret: secret, extra: token }, {});
    await other.post('/introspect', { token }, { authorization: basic('loud', `${secret.slice(0, -4)}AAAA`) });
    await other.post('/introspect', `token=${token}&token=${token}`, a);
    await other.post(`/introspect?token=${token}`, {}, a);
    await other.post('/introspect', { token, client_id: token, client_secret: secret }, {});
    await other.post('/introspect', { token, client_assertion_type: token, client_assertion: token }, {});
    await other.post('/introspect', { token, client_id: 'loud', client_assertion_type: ASSERTION_TYPE, client_assertion: token }, {});
    await other.post('/revoke', { token: tampered }, a);
    await other.post('/revoke', { token }, a);
    await other.post('/revoke', { token }, a);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const rows = JSON.stringify((await other.admin('audit', 'list', '--json')).json());
    const logs = captured.text();
    t.true(logs.includes('/introspect') && rows.includes('token.introspected'), 'the capture works');
    const needles = { signature: token.split('.')[2]!.slice(0, 24), payload: token.split('.')[1]!.slice(10, 40), secret: secret.slice(-20), tampered: tampered.slice(-20) };
    for (const [name, needle] of Object.entries(needles)) {
      t.false(rows.includes(needle), `audit holds the ${name}`);
      t.false(logs.includes(needle), `logs hold the ${name}`);
    }
  } finally {
    await other.close();
  }
});

test.serial('client assertions with header and claim tricks never authenticate at /introspect', async (t) => {
  const token = await tokenFor('billing');
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  const claims = () => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: 'keyed', sub: 'keyed', aud: TEST_ISSUER, iat: now, exp: now + 60, jti: randomUUID() };
  };
  const rawSign = (header: Record<string, unknown> | string, payload: string) => {
    const input = `${b64(header)}.${b64(payload)}`;
    const sig = createSign('sha256').update(input).sign({ key: appKey.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  };
  const sign = (header: Record<string, unknown>, payload: Record<string, unknown>, key = appKey.privateKey) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', ...header } as never).sign(key);
  const cases: Record<string, () => Promise<string>> = {
    embedded_jwk: () => sign({ jwk: attacker.publicKey.export({ format: 'jwk' }) }, claims(), attacker.privateKey),
    jku: () => sign({ jku: 'https://evil.example/jwks', kid: 'x' }, claims(), attacker.privateKey),
    x5u: () => sign({ x5u: 'https://evil.example/cert' }, claims(), attacker.privateKey),
    none: async () => `${b64({ alg: 'none' })}.${b64(claims())}.`,
    hs256_with_public_pem: () => new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(appKey.publicKey.export({ format: 'pem', type: 'spki' }).toString())),
    unknown_crit: async () => rawSign({ alg: 'ES256', crit: ['urn:x'], 'urn:x': 1 }, JSON.stringify(claims())),
    b64_false: async () => {
      const header = b64({ alg: 'ES256', b64: false, crit: ['b64'] });
      const payload = JSON.stringify(claims());
      const { createSign } = await import('node:crypto');
      const sig = createSign('sha256').update(`${header}.${payload}`).sign({ key: appKey.privateKey, dsaEncoding: 'ieee-p1363' });
      return `${header}.${b64(payload)}.${sig.toString('base64url')}`;
    },
    typ_at_jwt: () => sign({ typ: 'at+jwt' }, claims()),
    aud_other: () => sign({}, { ...claims(), aud: `${TEST_ISSUER}/introspect` }),
    aud_array_two: () => sign({}, { ...claims(), aud: [TEST_ISSUER, 'https://evil.example'] }),
    aud_object: () => sign({}, { ...claims(), aud: { 0: TEST_ISSUER } }),
    iat_string: () => sign({}, { ...claims(), iat: String(Math.floor(Date.now() / 1000)) }),
    exp_huge: () => sign({}, { ...claims(), exp: 1e20 }),
    sub_other: () => sign({}, { ...claims(), sub: 'billing' }),
    iss_billing: () => sign({}, { ...claims(), iss: 'billing', sub: 'billing' }),
    duplicate_sub: async () => {
      const c = claims();
      return rawSign({ alg: 'ES256' }, `{"iss":"keyed","sub":"billing","sub":"keyed","aud":"${TEST_ISSUER}","iat":${c.iat},"exp":${c.exp},"jti":"${c.jti}"}`);
    },
    duplicate_header_alg: async () => rawSign('{"alg":"none","alg":"ES256"}', JSON.stringify(claims())),
  };
  for (const [name, make] of Object.entries(cases)) {
    const response = await instance.post('/introspect', { token, client_assertion_type: ASSERTION_TYPE, client_assertion: await make() });
    t.is(response.status, 401, `${name}: ${response.status} ${await response.text()}`);
  }
  // control: the raw signer makes assertions that do authenticate
  t.is((await instance.post('/introspect', { token, client_assertion_type: ASSERTION_TYPE, client_assertion: rawSign({ alg: 'ES256' }, JSON.stringify(claims())) })).status, 200);
  // and the same assertion twice: single use at /introspect too
  const once = await sign({}, claims());
  t.is((await instance.post('/introspect', { token, client_assertion_type: ASSERTION_TYPE, client_assertion: once })).status, 200);
  t.is((await instance.post('/revoke', { token: 'x', client_assertion_type: ASSERTION_TYPE, client_assertion: once })).status, 401);
});

test.serial('inactive answers to a credentialed caller go through the audit volume guard; bodies over the limit are a 413', async (t) => {
  const other = await startInstance({ AUDIT_DENIED_PER_SECOND: '2' });
  try {
    const secret = await createApp(other, 'noisy');
    const a = { authorization: basic('noisy', secret) };
    for (let i = 0; i < 60; i++) t.is((await other.post('/introspect', { token: `garbage-${i}` }, a)).status, 200);
    const big = await other.post('/introspect', `token=${'a'.repeat(40_000)}`, a);
    t.is(big.status, 413);
    await other.serving.deps.auditGuard.close();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const rows = (await other.admin('audit', 'list', '--json')).json<{ action: string; details: Record<string, unknown> | null }[]>();
    const individual = rows.filter((e) => e.action === 'token.introspected').length;
    t.true(individual < 20, `${individual} individual rows for 60 inactive answers`);
    t.true(rows.some((e) => e.details?.summary === true));
  } finally {
    await other.close();
  }
});

test.serial('token revoke --before refuses an impossible calendar date', async (t) => {
  const run = await instance.admin('token', 'revoke', '--app', 'billing', '--before', '2026-02-30T00:00:00Z', '--json');
  t.not(run.code, 0, `accepted as ${run.stdout.trim()}`);
});
