import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { basic, createApp, startInstance, TEST_ISSUER, untilPropagated, type Instance } from '../helpers/instance.ts';

let instance: Instance;

test.before(async () => {
  instance = await startInstance();
  await instance.admin('app', 'create', 'catalog', '--scopes', 'catalog:read inventory:write', '--audiences', 'https://api.example');
});
test.after.always(() => instance?.close());

test('the JWKS lists the public signing key with use and alg, cacheable with an ETag', async (t) => {
  const res = await fetch(`${instance.url}/.well-known/jwks.json`);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^application\/json; charset=utf-8/);
  t.regex(res.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
  const etag = res.headers.get('etag');
  t.truthy(etag);
  const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
  t.is(keys.length, 1);
  t.like(keys[0], { kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' });
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) t.false(member in keys[0]!);
  const again = await fetch(`${instance.url}/.well-known/jwks.json`, { headers: { 'if-none-match': etag! } });
  t.is(again.status, 304);
});

test('the JWKS answer is the same whichever way the request is spelt: headers, body, ETag and 304', async (t) => {
  // a plain GET is answered before Koa; a query string, a trailing slash or HEAD go through the Koa route
  const headerNames = (res: Response) => [...res.headers.keys()].filter((h) => h !== 'date' && h !== 'x-request-id').sort();
  const plain = await fetch(`${instance.url}/.well-known/jwks.json`, { headers: { 'x-request-id': 'jwks-check-1' } });
  const plainBody = await plain.text();
  t.is(plain.headers.get('x-request-id'), 'jwks-check-1');
  t.is(plain.headers.get('x-content-type-options'), 'nosniff');
  for (const spelling of ['/.well-known/jwks.json?v=1', '/.well-known/jwks.json/', '/.well-known/JWKS.json']) {
    const other = await fetch(`${instance.url}${spelling}`);
    t.is(other.status, 200, spelling);
    t.deepEqual(headerNames(other), headerNames(plain), spelling);
    for (const name of ['etag', 'cache-control', 'content-type', 'content-length']) t.is(other.headers.get(name), plain.headers.get(name), `${spelling} ${name}`);
    t.is(await other.text(), plainBody, spelling);
    t.is((await fetch(`${instance.url}${spelling}`, { headers: { 'if-none-match': plain.headers.get('etag')! } })).status, 304, spelling);
  }
  const head = await fetch(`${instance.url}/.well-known/jwks.json`, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(head.headers.get('etag'), plain.headers.get('etag'));
  // a request id that could be a secret is never echoed
  const hostile = await fetch(`${instance.url}/.well-known/jwks.json`, { headers: { 'x-request-id': 'tmcs_abcdefghijkmnpqr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
  t.notRegex(hostile.headers.get('x-request-id') ?? '', /tmcs_/);
  t.is((await fetch(`${instance.url}/.well-known/jwks.json`, { method: 'POST' })).status, 404);
});

test('both discovery documents describe the token endpoint and JWKS', async (t) => {
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const res = await fetch(`${instance.url}${path}`);
    t.is(res.status, 200);
    const meta = (await res.json()) as Record<string, unknown>;
    t.is(meta.issuer, TEST_ISSUER);
    t.is(meta.token_endpoint, `${TEST_ISSUER}/token`);
    t.is(meta.jwks_uri, `${TEST_ISSUER}/.well-known/jwks.json`);
    t.deepEqual(meta.grant_types_supported, [
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ]);
    t.deepEqual(meta.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    t.true((meta.token_endpoint_auth_signing_alg_values_supported as string[]).includes('ES256'));
    t.false((meta.token_endpoint_auth_signing_alg_values_supported as string[]).some((a) => a === 'none' || a.startsWith('HS')));
    // RFC 8414 requires the member, non-empty for strict validators; no authorization endpoint issues anything
    t.deepEqual(meta.response_types_supported, ['none']);
    t.false('authorization_endpoint' in meta);
    // no empty optional list, and no application's scope names for an anonymous caller
    for (const [name, value] of Object.entries(meta)) t.false(Array.isArray(value) && value.length === 0, `${name} is an empty list`);
    t.false('scopes_supported' in meta);
    t.false(JSON.stringify(meta).includes('catalog:read'));
  }
});

test('PUBLISH_SCOPES=true lists the scopes of enabled applications in scopes_supported', async (t) => {
  const other = await startInstance({ PUBLISH_SCOPES: 'true' });
  try {
    const before = (await (await fetch(`${other.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    t.false('scopes_supported' in before, 'no application yet: no empty list either');
    await other.admin('app', 'create', 'catalog', '--scopes', 'catalog:read inventory:write', '--audiences', 'https://api.example');
    const meta = await untilPropagated(
      async () => (await (await fetch(`${other.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>,
      (m) => 'scopes_supported' in m,
    );
    t.deepEqual(meta.scopes_supported, ['catalog:read', 'inventory:write']);
  } finally {
    await other.close();
  }
});

test('an issuer with a path is discovered at the RFC 8414 §3.1 URL, the OIDC URL and the root forms, and serves its endpoints under the path', async (t) => {
  const issuer = 'https://issuer.tokenmint.test/tm';
  const other = await startInstance({ ISSUER_URL: issuer });
  try {
    for (const path of [
      '/.well-known/oauth-authorization-server/tm',
      '/.well-known/openid-configuration/tm',
      '/tm/.well-known/openid-configuration',
      '/tm/.well-known/oauth-authorization-server',
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]) {
      const res = await fetch(`${other.url}${path}`);
      t.is(res.status, 200, path);
      const meta = (await res.json()) as Record<string, unknown>;
      t.is(meta.issuer, issuer, path);
      t.is(meta.token_endpoint, `${issuer}/token`, path);
      t.is(meta.jwks_uri, `${issuer}/.well-known/jwks.json`, path);
    }
    t.is((await fetch(`${other.url}/.well-known/oauth-authorization-server/other`)).status, 404);
    const secret = await createApp(other, 'svc');
    for (const prefix of ['', '/tm']) {
      const res = await fetch(`${other.url}${prefix}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('svc', secret) },
        body: 'grant_type=client_credentials',
      });
      t.is(res.status, 200, `${prefix}/token`);
      const { access_token } = (await res.json()) as { access_token: string };
      const { payload } = await jwtVerify(access_token, createRemoteJWKSet(new URL(`${other.url}${prefix}/.well-known/jwks.json`)), { issuer });
      t.is(payload.sub, 'svc');
    }
  } finally {
    await other.close();
  }
});

test('healthz is live and readyz reports the database, its file, audit writes and the signing key', async (t) => {
  const live = await fetch(`${instance.url}/healthz`);
  t.is(live.status, 200);
  const ready = await fetch(`${instance.url}/readyz`);
  t.is(ready.status, 200);
  t.deepEqual(await ready.json(), { status: 'ready', checks: { database: true, database_file: true, audit_writes: true, signing_key: true, signing_keys_current: true } });
});

for (const alg of ['ES256', 'PS256', 'EdDSA'] as const) {
  test(`SIGNING_ALG=${alg} issues tokens that verify through the JWKS`, async (t) => {
    const other = await startInstance({ SIGNING_ALG: alg });
    try {
      const secret = await createApp(other, 'svc');
      const res = await other.token({ grant_type: 'client_credentials' }, { authorization: basic('svc', secret) });
      const { access_token } = (await res.json()) as { access_token: string };
      t.is(decodeProtectedHeader(access_token).alg, alg);
      const { payload } = await jwtVerify(access_token, createRemoteJWKSet(new URL(`${other.url}/.well-known/jwks.json`)), {
        issuer: TEST_ISSUER,
        audience: 'https://api.example',
        algorithms: [alg],
      });
      t.is(payload.sub, 'svc');
    } finally {
      await other.close();
    }
  });
}
