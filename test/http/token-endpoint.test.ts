import test from 'ava';
import { once } from 'node:events';
import { connect } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { basic, createApp, startInstance, TEST_ISSUER, type Instance } from '../helpers/instance.ts';

let instance: Instance;
let secret: string;

test.before(async () => {
  instance = await startInstance();
  secret = await createApp(instance, 'billing');
});
test.after.always(() => instance?.close());

test('client_secret_basic gets a token that verifies through our JWKS as a downstream API would', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('billing', secret) });
  t.is(res.status, 200);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.is(res.headers.get('pragma'), 'no-cache');
  const body = (await res.json()) as Record<string, unknown>;
  t.is(body.token_type, 'Bearer');
  t.is(body.expires_in, 600);
  t.is(body.scope, 'read');
  const jwks = createRemoteJWKSet(new URL(`${instance.url}/.well-known/jwks.json`));
  const { payload, protectedHeader } = await jwtVerify(body.access_token as string, jwks, {
    issuer: TEST_ISSUER,
    audience: 'https://api.example',
    typ: 'at+jwt',
    algorithms: ['RS256'],
  });
  t.is(protectedHeader.typ, 'at+jwt');
  t.truthy(protectedHeader.kid);
  t.is(payload.sub, 'billing');
  t.is(payload.client_id, 'billing');
  t.is(payload.scope, 'read');
  t.is(typeof payload.jti, 'string');
  t.is(payload.exp! - payload.iat!, 600);
  t.is(payload.nbf, payload.iat);
});

test('client_secret_post works the same way', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials', client_id: 'billing', client_secret: secret, scope: 'read write' });
  t.is(res.status, 200);
  const body = (await res.json()) as { access_token: string; scope: string };
  t.is(body.scope, 'read write');
  t.is(decodeProtectedHeader(body.access_token).typ, 'at+jwt');
});

async function expectError(t: import('ava').ExecutionContext, res: Response, status: number, error: string, description?: RegExp) {
  t.is(res.status, status);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.regex(res.headers.get('content-type') ?? '', /^application\/json; charset=utf-8/);
  const body = (await res.json()) as { error: string; error_description: string };
  t.is(body.error, error);
  t.is(typeof body.error_description, 'string');
  if (description) t.regex(body.error_description, description);
  return body;
}

test('a wrong secret is invalid_client with WWW-Authenticate when Basic was used', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('billing', `${secret.slice(0, -2)}xx`) });
  await expectError(t, res, 401, 'invalid_client', /^client authentication failed$/);
  t.is(res.headers.get('www-authenticate'), `Basic realm="${TEST_ISSUER}"`);
});

test('a wrong secret in the body is invalid_client without WWW-Authenticate', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials', client_id: 'billing', client_secret: 'nope' });
  await expectError(t, res, 401, 'invalid_client');
  t.is(res.headers.get('www-authenticate'), null);
});

test('an unknown client gets exactly the same answer as a wrong secret', async (t) => {
  const unknown = await instance.token({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: secret });
  const wrong = await instance.token({ grant_type: 'client_credentials', client_id: 'billing', client_secret: 'tmcs_aaaaaaaaaaaaaaaa_' + 'A'.repeat(43) });
  t.deepEqual(await unknown.json(), await wrong.json());
  t.is(unknown.status, wrong.status);
});

test('no credentials at all is invalid_client', async (t) => {
  await expectError(t, await instance.token({ grant_type: 'client_credentials' }), 401, 'invalid_client');
  await expectError(t, await instance.token({ grant_type: 'client_credentials', client_id: 'billing' }), 401, 'invalid_client');
});

test('another content type is invalid_request', async (t) => {
  const res = await fetch(`${instance.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'billing', client_secret: secret }),
  });
  await expectError(t, res, 400, 'invalid_request', /x-www-form-urlencoded/);
  const none = await fetch(`${instance.url}/token`, { method: 'POST', body: new Uint8Array([1, 2]) });
  await expectError(t, none, 400, 'invalid_request');
});

test('a form body in another charset is invalid_request', async (t) => {
  const res = await instance.token('grant_type=client_credentials', { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' });
  await expectError(t, res, 400, 'invalid_request');
});

test('GET and other methods on /token are refused with 405', async (t) => {
  const res = await fetch(`${instance.url}/token?grant_type=client_credentials`);
  await expectError(t, res, 405, 'invalid_request');
  t.is(res.headers.get('allow'), 'POST');
  await expectError(t, await fetch(`${instance.url}/token`, { method: 'PUT' }), 405, 'invalid_request');
});

test('a repeated parameter is invalid_request', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials', client_id: 'billing', client_secret: secret, scope: ['read', 'write'] });
  await expectError(t, res, 400, 'invalid_request', /scope is repeated/);
  const grant = await instance.token({ grant_type: ['client_credentials', 'client_credentials'] }, { authorization: basic('billing', secret) });
  await expectError(t, grant, 400, 'invalid_request', /grant_type is repeated/);
});

test('an empty value counts as absent', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials', scope: '', audience: '' }, { authorization: basic('billing', secret) });
  t.is(res.status, 200);
  t.is(((await res.json()) as { scope: string }).scope, 'read');
  await expectError(t, await instance.token({ grant_type: '' }, { authorization: basic('billing', secret) }), 400, 'invalid_request', /grant_type is required/);
});

test('unknown parameters are ignored', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials', frobnicate: 'yes' }, { authorization: basic('billing', secret) });
  t.is(res.status, 200);
});

test('a secret in the query string is invalid_request even with correct credentials', async (t) => {
  for (const name of ['client_secret', 'password', 'client_assertion', 'assertion', 'subject_token']) {
    const res = await fetch(`${instance.url}/token?${name}=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('billing', secret) },
      body: 'grant_type=client_credentials',
    });
    await expectError(t, res, 400, 'invalid_request', new RegExp(name));
  }
});

test('two client authentication methods at once are invalid_request', async (t) => {
  const both = await instance.token({ grant_type: 'client_credentials', client_secret: secret }, { authorization: basic('billing', secret) });
  await expectError(t, both, 400, 'invalid_request', /exactly one/);
  const withPassword = await instance.token({ grant_type: 'client_credentials', client_id: 'billing', client_secret: secret, username: 'u', password: 'p' });
  await expectError(t, withPassword, 400, 'invalid_request', /exactly one/);
  // client_secret carries a JWT only when no client_assertion is sent
  const assertionAndSecret = await instance.token({
    grant_type: 'client_credentials',
    client_id: 'billing',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: 'a.b.c',
    client_secret: secret,
  });
  await expectError(t, assertionAndSecret, 400, 'invalid_request', /exactly one/);
});

test('a Basic client_id that differs from the body client_id is invalid_request', async (t) => {
  const res = await instance.token({ grant_type: 'client_credentials', client_id: 'other' }, { authorization: basic('billing', secret) });
  await expectError(t, res, 400, 'invalid_request', /differs/);
  const same = await instance.token({ grant_type: 'client_credentials', client_id: 'billing' }, { authorization: basic('billing', secret) });
  t.is(same.status, 200);
});

test('Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1)', async (t) => {
  const odd = await instance.admin('app', 'create', 'svc:odd@x', '--secret', '--audiences', 'https://api.example', '--json');
  const oddSecret = odd.json<{ client_secret: string }>().client_secret;
  const encoded = `Basic ${Buffer.from(`svc%3Aodd%40x:${encodeURIComponent(oddSecret)}`).toString('base64')}`;
  t.is((await instance.token({ grant_type: 'client_credentials' }, { authorization: encoded })).status, 200);
  const raw = `Basic ${Buffer.from('svc:odd@x:' + oddSecret).toString('base64')}`;
  await expectError(t, await instance.token({ grant_type: 'client_credentials' }, { authorization: raw }), 401, 'invalid_client');
});

test('a malformed Authorization header is invalid_request', async (t) => {
  for (const header of ['Basic', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, 'Bearer abc', `Basic ${Buffer.from('%zz:x').toString('base64')}`]) {
    await expectError(t, await instance.token({ grant_type: 'client_credentials' }, { authorization: header }), 400, 'invalid_request');
  }
});

test('a missing grant_type is invalid_request and an unknown one unsupported_grant_type', async (t) => {
  await expectError(t, await instance.token({}, { authorization: basic('billing', secret) }), 400, 'invalid_request', /grant_type/);
  await expectError(t, await instance.token({ grant_type: 'authorization_code' }, { authorization: basic('billing', secret) }), 400, 'unsupported_grant_type');
});

test('a grant the application does not allow is unauthorized_client', async (t) => {
  const other = await instance.admin('app', 'create', 'exchanger', '--secret', '--grants', 'token-exchange', '--audiences', 'https://api.example', '--json');
  const otherSecret = other.json<{ client_secret: string }>().client_secret;
  await expectError(t, await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('exchanger', otherSecret) }), 400, 'unauthorized_client');
});

test('a scope the application may not have is invalid_scope', async (t) => {
  await expectError(t, await instance.token({ grant_type: 'client_credentials', scope: 'read admin' }, { authorization: basic('billing', secret) }), 400, 'invalid_scope', /admin/);
  await expectError(t, await instance.token({ grant_type: 'client_credentials', scope: 'read "x"' }, { authorization: basic('billing', secret) }), 400, 'invalid_scope');
});

test('audience and resource must be allowed, else invalid_target; absent means the default audience', async (t) => {
  const chosen = await instance.token({ grant_type: 'client_credentials', audience: 'https://other.example' }, { authorization: basic('billing', secret) });
  t.is(chosen.status, 200);
  const token = ((await chosen.json()) as { access_token: string }).access_token;
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  t.is(payload.aud, 'https://other.example');
  const viaResource = await instance.token({ grant_type: 'client_credentials', resource: 'https://api.example' }, { authorization: basic('billing', secret) });
  t.is(viaResource.status, 200);
  await expectError(t, await instance.token({ grant_type: 'client_credentials', audience: 'https://evil.example' }, { authorization: basic('billing', secret) }), 400, 'invalid_target');
  await expectError(t, await instance.token({ grant_type: 'client_credentials', resource: 'https://evil.example' }, { authorization: basic('billing', secret) }), 400, 'invalid_target');
});

test('several resource parameters (RFC 8707) each need allowing; the token is for all of them', async (t) => {
  const auth = { authorization: basic('billing', secret) };
  const both = await instance.token({ grant_type: 'client_credentials', resource: ['https://api.example', 'https://other.example'] }, auth);
  t.is(both.status, 200);
  const token = ((await both.json()) as { access_token: string }).access_token;
  t.deepEqual(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).aud, ['https://api.example', 'https://other.example']);
  // one refused resource refuses the request, and the error names resource, not audience
  const mixed = await instance.token({ grant_type: 'client_credentials', resource: ['https://api.example', 'https://evil.example'] }, auth);
  const body = await expectError(t, mixed, 400, 'invalid_target');
  t.regex(body.error_description, /^resource https:\/\/evil\.example is not allowed/);
  // RFC 8707 §2: an absolute URI without a fragment
  for (const bad of ['api.example', '/relative', 'https://api.example#frag']) {
    const res = await instance.token({ grant_type: 'client_credentials', resource: bad }, auth);
    t.regex((await expectError(t, res, 400, 'invalid_target')).error_description, /^resource .* is not an absolute URI without a fragment$/, bad);
  }
  // audience and resource together: the token is for both; audience itself does not repeat
  const together = await instance.token({ grant_type: 'client_credentials', audience: 'https://other.example', resource: ['https://api.example', 'https://api.example'] }, auth);
  t.is(together.status, 200);
  const aud = JSON.parse(Buffer.from(((await together.json()) as { access_token: string }).access_token.split('.')[1]!, 'base64url').toString()).aud;
  t.deepEqual(aud, ['https://other.example', 'https://api.example']);
  await expectError(t, await instance.token({ grant_type: 'client_credentials', audience: ['https://api.example', 'https://other.example'] }, auth), 400, 'invalid_request', /audience is repeated/);
  // other parameters still may not repeat, and resource not without end
  await expectError(t, await instance.token({ grant_type: 'client_credentials', scope: ['read', 'write'] }, auth), 400, 'invalid_request', /scope is repeated/);
  const many = Array.from({ length: 21 }, () => 'https://api.example');
  await expectError(t, await instance.token({ grant_type: 'client_credentials', resource: many }, auth), 400, 'invalid_request', /repeated more than 20 times/);
});

test('every response carries an X-Request-Id; a sane incoming one is kept, anything else replaced', async (t) => {
  const auth = { authorization: basic('billing', secret) };
  const fresh = await instance.token({ grant_type: 'client_credentials' }, auth);
  t.regex(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const kept = await instance.token({ grant_type: 'client_credentials' }, { ...auth, 'x-request-id': 'trace-4711.abc' });
  t.is(kept.headers.get('x-request-id'), 'trace-4711.abc');
  for (const insane of ['a'.repeat(129), 'has space', 'quote"d', `tmcs_${'A'.repeat(26)}_${'b'.repeat(43)}`]) {
    const res = await fetch(`${instance.url}/healthz`, { headers: { 'x-request-id': insane } });
    const id = res.headers.get('x-request-id') ?? '';
    t.not(id, insane);
    t.regex(id, /^[0-9a-f-]{36}$/);
  }
  t.regex((await fetch(`${instance.url}/nowhere`)).headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('an application cannot be created without an audience, so every token has one', async (t) => {
  const bare = await instance.admin('app', 'create', 'bare', '--secret', '--json');
  t.is(bare.code, 1);
  t.regex(bare.stderr, /^error: give at least one --audiences/);
});

test('the per-application TTL sets expires_in and exp', async (t) => {
  const short = await instance.admin('app', 'create', 'short-lived', '--secret', '--ttl', '60', '--audiences', 'https://api.example', '--json');
  const shortSecret = short.json<{ client_secret: string }>().client_secret;
  const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('short-lived', shortSecret) });
  const body = (await res.json()) as { access_token: string; expires_in: number };
  t.is(body.expires_in, 60);
  const payload = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString());
  t.is(payload.exp - payload.iat, 60);
});

test('a body over the size cap is refused with 413, not a 500', async (t) => {
  const res = await instance.token(`grant_type=client_credentials&pad=${'a'.repeat(40 * 1024)}`, { authorization: basic('billing', secret) });
  await expectError(t, res, 413, 'invalid_request', /too large/);
});

/** Writes `parts` to a new connection one at a time, then reads until the server closes or `end` is seen. */
async function rawExchange(parts: string[], options: { endAfterWriting?: boolean } = {}): Promise<string> {
  const socket = connect(instance.serving.port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => {});
  for (const part of parts) {
    socket.write(part);
    await new Promise((r) => setTimeout(r, 20));
  }
  if (options.endAfterWriting) socket.end();
  await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, 2000))]);
  socket.destroy();
  return received;
}

const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;

test('a chunked body (no Content-Length) over the size cap is refused with 413 as it arrives', async (t) => {
  const head = 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
  const pieces = Array.from({ length: 5 }, () => chunk(`pad=${'a'.repeat(10 * 1024)}&`));
  const answer = await rawExchange([head, ...pieces, '0\r\n\r\n']);
  t.regex(answer, /^HTTP\/1\.1 413 /);
  t.regex(answer, /"error":"invalid_request"/);
  t.regex(answer, /too large/);
});

test('a body that arrives in pieces, split inside a parameter, is read whole', async (t) => {
  const body = `grant_type=client_credentials&client_id=billing&client_secret=${encodeURIComponent(secret)}`;
  const split = body.length - 10;
  const head = 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
  const answer = await rawExchange([head, chunk(body.slice(0, split)), chunk(body.slice(split)), '0\r\n\r\n']);
  t.regex(answer, /^HTTP\/1\.1 200 /);
  t.regex(answer, /"access_token":"/);
});

test('a byte-order mark before the form is not part of the first parameter', async (t) => {
  const res = await instance.token(`\uFEFFgrant_type=client_credentials&client_id=billing&client_secret=${encodeURIComponent(secret)}`);
  t.is(res.status, 200);
});

test('a client that stops short of its Content-Length and hangs up gets no token, and the server carries on', async (t) => {
  const body = `grant_type=client_credentials&client_id=billing&client_secret=${encodeURIComponent(secret)}`;
  const head = `POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length + 50}\r\n\r\n`;
  const answer = await rawExchange([head, body], { endAfterWriting: true });
  t.notRegex(answer, /access_token/);
  const res = await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('billing', secret) });
  t.is(res.status, 200);
});

test('garbage never produces a 500', async (t) => {
  const bodies = ['%', '%%%%=%%%', 'grant_type=%E0%A4%A', '&&&==&', 'grant_type=client_credentials&client_id=%00&client_secret=%FF', '\u0000\u0001'];
  for (const body of bodies) {
    const res = await instance.token(body);
    t.true(res.status >= 400 && res.status < 500, `${JSON.stringify(body)} → ${res.status}`);
  }
  const weirdHeader = await instance.token({ grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x00]).toString('base64')}` });
  t.true(weirdHeader.status >= 400 && weirdHeader.status < 500);
});

test('grant_type=password without a service account is invalid_request', async (t) => {
  await expectError(t, await instance.token({ grant_type: 'password' }, { authorization: basic('billing', secret) }), 400, 'invalid_request', /service account/);
});

test('unknown paths are JSON 404s', async (t) => {
  const res = await fetch(`${instance.url}/nope`);
  t.is(res.status, 404);
  t.is(((await res.json()) as { error: string }).error, 'not_found');
});

test('a compressed or otherwise encoded body is refused with 415, not a 500', async (t) => {
  for (const encoding of ['gzip', 'br', 'foo']) {
    const res = await instance.token('grant_type=client_credentials', { authorization: basic('billing', secret), 'content-encoding': encoding });
    await expectError(t, res, 415, 'invalid_request', /compressed/);
  }
});

test('a malformed client_id is refused without a lookup and audited as malformed', async (t) => {
  const huge = 'x'.repeat(20_000);
  const res = await instance.token({ grant_type: 'client_credentials', client_id: `${huge}\n2026 forged line`, client_secret: 'guess' });
  await expectError(t, res, 401, 'invalid_client', /^client authentication failed$/);
  await instance.serving.deps.writer.flush();
  const events = (await instance.admin('audit', 'list', '--json', '--limit', '1000')).json<{ client_id: string | null; reason: string }[]>();
  const event = events.find((e) => e.reason === 'malformed client_id');
  t.is(event?.client_id, '(malformed)');
});
