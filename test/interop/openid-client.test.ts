// openid-client 6 (panva), the certified OpenID/OAuth client for Node.js, against the real server:
// discovery from the issuer identifier, client_credentials with each client authentication method
// tokenmint offers, and the issued token verified through the discovered jwks_uri.
import test, { type ExecutionContext } from 'ava';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { createApp } from '../helpers/instance.ts';
import { admin, clientCertificate, recordingFetch, startPartnerFixture, startReachable, type ClientCertificate, type KeyKind, type ReachableInstance } from '../helpers/interop.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// the library refuses http:// unless told; this is its documented switch for that
const insecure = { execute: [client.allowInsecureRequests] };
let tm: ReachableInstance;
let secret: string;
let certificates: Map<KeyKind, ClientCertificate>;

test.before(async () => {
  ({ tm, secret, certificates } = await startPartnerFixture());
});
test.after.always(() => tm?.close());

/** Verifies an access token the way a downstream API does, with keys from the discovered jwks_uri. */
async function verifyAccessToken(t: ExecutionContext, config: client.Configuration, accessToken: string, sub: string) {
  const metadata = config.serverMetadata();
  const { payload, protectedHeader } = await jwtVerify(accessToken, createRemoteJWKSet(new URL(metadata.jwks_uri!)), {
    issuer: metadata.issuer,
    audience: 'https://api.example',
    typ: 'at+jwt',
  });
  t.truthy(protectedHeader.kid);
  t.is(payload.sub, sub);
  t.is(payload.client_id, sub);
  return payload;
}

test('discovery from the issuer identifier finds the token endpoint and the JWKS', async (t) => {
  const config = await client.discovery(new URL(tm.issuer), 'billing', secret, undefined, insecure);
  const metadata = config.serverMetadata();
  t.is(metadata.issuer, tm.issuer);
  t.is(metadata.token_endpoint, `${tm.issuer}/token`);
  t.is(metadata.jwks_uri, `${tm.issuer}/.well-known/jwks.json`);
  t.true(metadata.token_endpoint_auth_methods_supported?.includes('private_key_jwt'));
});

test('discovery through the RFC 8414 document (algorithm oauth2) finds the same metadata', async (t) => {
  const config = await client.discovery(new URL(tm.issuer), 'billing', secret, undefined, { ...insecure, algorithm: 'oauth2' });
  t.is(config.serverMetadata().token_endpoint, `${tm.issuer}/token`);
});

test('client_secret_basic: clientCredentialsGrant gets a token that verifies through the discovered jwks_uri', async (t) => {
  const recorder = recordingFetch();
  const config = await client.discovery(new URL(tm.issuer), 'billing', secret, client.ClientSecretBasic(), { ...insecure, [client.customFetch]: recorder.fetch });
  const tokens = await client.clientCredentialsGrant(config, { scope: 'read write' });
  t.is(tokens.token_type, 'bearer'); // the library lowercases it
  t.is(tokens.expires_in, 600);
  t.is(tokens.scope, 'read write');
  const payload = await verifyAccessToken(t, config, tokens.access_token, 'billing');
  t.is(payload.scope, 'read write');
  // the secret went in the Authorization header, not the body
  t.false(recorder.bodies.at(-1)!.has('client_secret'));
});

test('client_secret_post (the ClientSecretPost helper, which is also the library default for a string secret)', async (t) => {
  for (const auth of [client.ClientSecretPost(), undefined]) {
    const recorder = recordingFetch();
    const config = await client.discovery(new URL(tm.issuer), 'billing', secret, auth, { ...insecure, [client.customFetch]: recorder.fetch });
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    t.is(tokens.scope, 'read');
    await verifyAccessToken(t, config, tokens.access_token, 'billing');
    t.is(recorder.bodies.at(-1)!.get('client_secret'), secret);
  }
});

test('a wrong secret: with Basic the library reports the WWW-Authenticate challenge, in the body an invalid_client', async (t) => {
  // RFC 6749 §5.2: a 401 for credentials sent in the Authorization header carries a challenge
  const basic = await client.discovery(new URL(tm.issuer), 'billing', 'tmcs_wrong', client.ClientSecretBasic(), insecure);
  const challenged = await t.throwsAsync(client.clientCredentialsGrant(basic, { scope: 'read' }));
  t.true(challenged instanceof client.WWWAuthenticateChallengeError);
  t.like(challenged, { status: 401, cause: [{ scheme: 'basic', parameters: { realm: tm.issuer } }] });
  const post = await client.discovery(new URL(tm.issuer), 'billing', 'tmcs_wrong', client.ClientSecretPost(), insecure);
  const refused = await t.throwsAsync(client.clientCredentialsGrant(post, { scope: 'read' }));
  t.true(refused instanceof client.ResponseBodyError);
  t.like(refused, { error: 'invalid_client', status: 401 });
});

async function privateKeyJwt(t: ExecutionContext, kind: KeyKind, options?: Parameters<typeof client.PrivateKeyJwt>[1]) {
  const certificate = certificates.get(kind)!;
  const recorder = recordingFetch();
  const config = await client.discovery(new URL(tm.issuer), 'partner', undefined, client.PrivateKeyJwt(certificate.privateKey, options), { ...insecure, [client.customFetch]: recorder.fetch });
  const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
  await verifyAccessToken(t, config, tokens.access_token, 'partner');
  const sent = recorder.bodies.at(-1)!;
  t.is(sent.get('client_assertion_type'), ASSERTION_TYPE);
  t.is(sent.get('client_id'), 'partner');
  const assertion = sent.get('client_assertion')!;
  // the audience openid-client puts in its assertion: the issuer identifier, as a string
  t.is(decodeJwt(assertion).aud, tm.issuer);
  // and the certificate that verified it is the one of this key
  await tm.serving.deps.writer.flush();
  const events = (await tm.admin('audit', 'list', '--app', 'partner', '--json')).json<{ action: string; details: Record<string, unknown> }[]>();
  const issued = events.find((e) => e.action === 'token.issued' && e.details.assertion_jti === decodeJwt(assertion).jti);
  t.like(issued?.details, { method: 'private_key_jwt', source: `certificate:partner-${kind}` });
  return decodeProtectedHeader(assertion);
}

test('PrivateKeyJwt with the RSA certificate of an application that has three (RS256)', async (t) => {
  t.is((await privateKeyJwt(t, 'rsa')).alg, 'RS256');
});

test('PrivateKeyJwt with the EC P-256 certificate of an application that has three (ES256)', async (t) => {
  t.is((await privateKeyJwt(t, 'ec')).alg, 'ES256');
});

test('PrivateKeyJwt with the Ed25519 certificate of an application that has three (alg Ed25519, as the library names it)', async (t) => {
  t.is((await privateKeyJwt(t, 'ed25519')).alg, 'Ed25519');
});

test('PrivateKeyJwt with the Ed25519 certificate and the alg remapped to EdDSA, as the library documents for older servers', async (t) => {
  const remap = {
    [client.modifyAssertion]: (header: Record<string, unknown>) => {
      if (header.alg === 'Ed25519') header.alg = 'EdDSA';
    },
  };
  t.is((await privateKeyJwt(t, 'ed25519', remap)).alg, 'EdDSA');
});

test('PrivateKeyJwt with a key bound to no application is an invalid_client', async (t) => {
  const stranger = await clientCertificate(tm.dir, 'stranger', 'ec');
  const config = await client.discovery(new URL(tm.issuer), 'partner', undefined, client.PrivateKeyJwt(stranger.privateKey), insecure);
  const error = await t.throwsAsync(client.clientCredentialsGrant(config, { scope: 'read' }));
  t.like(error, { error: 'invalid_client', status: 401 });
});

test('an issuer with a path: discovery (OpenID and RFC 8414 §3.1 URLs), then client_credentials and PrivateKeyJwt under the path', async (t) => {
  const prefixed = await startReachable({}, '/tm');
  try {
    const clientSecret = await createApp(prefixed, 'billing');
    await admin(prefixed, 'app', 'create', 'partner', '--audiences', 'https://api.example');
    const certificate = await clientCertificate(prefixed.dir, 'partner-ec', 'ec');
    await admin(prefixed, 'cert', 'add', 'partner-ec', '--file', certificate.certFile, '--app', 'partner');
    for (const algorithm of ['oidc', 'oauth2'] as const) {
      const config = await client.discovery(new URL(prefixed.issuer), 'billing', clientSecret, client.ClientSecretBasic(), { ...insecure, algorithm });
      t.is(config.serverMetadata().token_endpoint, `${prefixed.issuer}/token`);
      const tokens = await client.clientCredentialsGrant(config);
      await verifyAccessToken(t, config, tokens.access_token, 'billing');
    }
    const recorder = recordingFetch();
    const config = await client.discovery(new URL(prefixed.issuer), 'partner', undefined, client.PrivateKeyJwt(certificate.privateKey), { ...insecure, algorithm: 'oauth2', [client.customFetch]: recorder.fetch });
    const tokens = await client.clientCredentialsGrant(config);
    await verifyAccessToken(t, config, tokens.access_token, 'partner');
    t.is(decodeJwt(recorder.bodies.at(-1)!.get('client_assertion')!).aud, prefixed.issuer);
  } finally {
    await prefixed.close();
  }
});

test('tokenIntrospection and tokenRevocation: a resource server sees the token active, the holder revokes it, then it is inactive', async (t) => {
  const holder = await client.discovery(new URL(tm.issuer), 'billing', secret, client.ClientSecretBasic(), insecure);
  const { access_token: accessToken } = await client.clientCredentialsGrant(holder, {});
  const rsSecret = await createApp(tm, 'orders-api');
  const resourceServer = await client.discovery(new URL(tm.issuer), 'orders-api', rsSecret, client.ClientSecretPost(), insecure);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const active = await client.tokenIntrospection(resourceServer, accessToken);
  t.true(active.active);
  t.is(active.client_id, 'billing');
  t.is(active.token_type, 'Bearer');
  t.is(active.jti, decodeJwt(accessToken).jti);
  await client.tokenRevocation(holder, accessToken, { token_type_hint: 'access_token' });
  t.deepEqual({ ...(await client.tokenIntrospection(resourceServer, accessToken)) }, { active: false });
});

test('tokenIntrospection with introspection_signed_response_alg and non-repudiation checks: the RFC 9701 JWT answer validates', async (t) => {
  const alg = tm.serving.deps.keystore().active!.alg;
  const introspectionTypes: string[] = [];
  const watching: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (String(input).endsWith('/introspect')) introspectionTypes.push(response.headers.get('content-type') ?? '');
    return response;
  };
  const config = await client.discovery(new URL(tm.issuer), 'billing', { client_secret: secret, introspection_signed_response_alg: alg }, client.ClientSecretBasic(), {
    ...insecure,
    [client.customFetch]: watching,
  });
  // the library verifies the signed answer's signature with the keys from jwks_uri
  client.enableNonRepudiationChecks(config);
  t.true(config.serverMetadata().introspection_signing_alg_values_supported?.includes(alg));
  const { access_token: accessToken } = await client.clientCredentialsGrant(config, {});
  const answer = await client.tokenIntrospection(config, accessToken);
  t.true(answer.active);
  t.is(answer.sub, 'billing');
  t.deepEqual(introspectionTypes, ['application/token-introspection+jwt']);
  t.false((await client.tokenIntrospection(config, 'not-a-token')).active);
});

test('PrivateKeyJwt authenticates tokenIntrospection too (aud = the issuer identifier)', async (t) => {
  const certificate = certificates.get('ec')!;
  const config = await client.discovery(new URL(tm.issuer), 'partner', undefined, client.PrivateKeyJwt(certificate.privateKey), insecure);
  const { access_token: accessToken } = await client.clientCredentialsGrant(config, {});
  const answer = await client.tokenIntrospection(config, accessToken);
  t.true(answer.active);
  t.is(answer.client_id, 'partner');
  await client.tokenRevocation(config, accessToken);
  t.false((await client.tokenIntrospection(config, accessToken)).active);
});
