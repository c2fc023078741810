// oauth4webapi 3 (panva), the low-level OAuth 2 / OpenID Connect client of web platforms, against
// the real server: discovery with strict issuer validation, client_credentials with a client secret
// and with private_key_jwt, and discovery of an issuer whose identifier has a path (RFC 8414 §3.1).
import test, { type ExecutionContext } from 'ava';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oauth from 'oauth4webapi';
import { createApp } from '../helpers/instance.ts';
import { recordingFetch, startPartnerFixture, startReachable, type ClientCertificate, type KeyKind, type ReachableInstance } from '../helpers/interop.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
// the library refuses http:// unless told; this is its documented option for that
const insecure = { [oauth.allowInsecureRequests]: true } as const;
let tm: ReachableInstance;
let secret: string;
let certificates: Map<KeyKind, ClientCertificate>;

test.before(async () => {
  ({ tm, secret, certificates } = await startPartnerFixture());
});
test.after.always(() => tm?.close());

/** Discovery as the library does it, with the issuer of the response checked against the one asked for (RFC 8414 §3.3). */
async function discover(issuer: string, algorithm: 'oidc' | 'oauth2'): Promise<oauth.AuthorizationServer> {
  const identifier = new URL(issuer);
  return oauth.processDiscoveryResponse(identifier, await oauth.discoveryRequest(identifier, { algorithm, ...insecure }));
}

/** RFC 8414 §2 beyond what the library checks: what a strict client relies on. */
function checkMetadata(t: ExecutionContext, as: oauth.AuthorizationServer, issuer: string) {
  t.is(as.issuer, issuer);
  for (const member of ['token_endpoint', 'jwks_uri'] as const) {
    const url = new URL(as[member]!);
    t.is(url.origin, new URL(issuer).origin, member);
    t.is(url.search + url.hash, '', member);
  }
  t.true(Array.isArray(as.response_types_supported), 'response_types_supported is REQUIRED (RFC 8414 §2)');
  t.true(as.grant_types_supported?.includes('client_credentials'));
  t.true(as.grant_types_supported?.includes(JWT_BEARER));
  t.deepEqual(as.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
  // MUST be present when private_key_jwt is offered; "none" MUST NOT be used
  const algs = as.token_endpoint_auth_signing_alg_values_supported ?? [];
  for (const alg of ['RS256', 'ES256', 'EdDSA', 'Ed25519']) t.true(algs.includes(alg), alg);
  t.false(algs.some((alg) => alg === 'none' || alg.startsWith('HS')));
}

test('discovery (OpenID and RFC 8414 documents) passes strict issuer validation and describes the server', async (t) => {
  for (const algorithm of ['oidc', 'oauth2'] as const) {
    const as = await discover(tm.issuer, algorithm);
    checkMetadata(t, as, tm.issuer);
    t.is(as.token_endpoint, `${tm.issuer}/token`);
  }
});

async function verified(t: ExecutionContext, as: oauth.AuthorizationServer, result: oauth.TokenEndpointResponse, sub: string) {
  t.is(result.token_type, 'bearer'); // the library lowercases it
  const { payload } = await jwtVerify(result.access_token, createRemoteJWKSet(new URL(as.jwks_uri!)), {
    issuer: as.issuer,
    audience: 'https://api.example',
    typ: 'at+jwt',
  });
  t.is(payload.sub, sub);
  t.is(payload.client_id, sub);
}

test('client_credentials with ClientSecretBasic', async (t) => {
  const as = await discover(tm.issuer, 'oauth2');
  const client: oauth.Client = { client_id: 'billing' };
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), new URLSearchParams({ scope: 'read write' }), insecure);
  const result = await oauth.processClientCredentialsResponse(as, client, response);
  t.is(result.scope, 'read write');
  await verified(t, as, result, 'billing');
});

async function privateKeyJwt(t: ExecutionContext, kind: KeyKind) {
  const as = await discover(tm.issuer, 'oauth2');
  const client: oauth.Client = { client_id: 'partner' };
  const recorder = recordingFetch();
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt(certificates.get(kind)!.privateKey), new URLSearchParams({ scope: 'read' }), {
    ...insecure,
    [oauth.customFetch]: recorder.fetch,
  });
  const result = await oauth.processClientCredentialsResponse(as, client, response);
  await verified(t, as, result, 'partner');
  const sent = recorder.bodies.at(-1)!;
  t.is(sent.get('client_id'), 'partner');
  // the audience oauth4webapi puts in its assertion: the issuer identifier, as a string
  t.is(decodeJwt(sent.get('client_assertion')!).aud, tm.issuer);
}

test('client_credentials with PrivateKeyJwt, EC P-256 (ES256)', (t) => privateKeyJwt(t, 'ec'));
test('client_credentials with PrivateKeyJwt, RSA (RS256), on the same application', (t) => privateKeyJwt(t, 'rsa'));
test('client_credentials with PrivateKeyJwt, Ed25519 (alg Ed25519), on the same application', (t) => privateKeyJwt(t, 'ed25519'));

test('an issuer with a path: discovery at /.well-known/oauth-authorization-server/tm (RFC 8414 §3.1), then tokens served under /tm and behind a path-stripping proxy', async (t) => {
  const prefixed = await startReachable({}, '/tm');
  try {
    const identifier = new URL(prefixed.issuer);
    let asked = '';
    const discovery = await oauth.discoveryRequest(identifier, {
      algorithm: 'oauth2',
      ...insecure,
      [oauth.customFetch]: (url, options) => ((asked = url), fetch(url, options)),
    });
    t.is(new URL(asked).pathname, '/.well-known/oauth-authorization-server/tm');
    t.is(discovery.status, 200, `GET ${asked}`);
    const as = await oauth.processDiscoveryResponse(identifier, discovery);
    checkMetadata(t, as, prefixed.issuer);
    t.is(as.token_endpoint, `${prefixed.issuer}/token`);
    t.is(as.jwks_uri, `${prefixed.issuer}/.well-known/jwks.json`);

    const clientSecret = await createApp(prefixed, 'billing');
    const client: oauth.Client = { client_id: 'billing' };
    // a reverse proxy that strips the prefix, one way such an issuer is deployed
    const proxy: typeof fetch = (url, options) => {
      const target = new URL(String(url));
      if (target.pathname.startsWith('/tm/')) target.pathname = target.pathname.slice('/tm'.length);
      return fetch(target, options);
    };
    for (const [how, transport] of [['under /tm', fetch], ['behind the proxy', proxy]] as const) {
      const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(clientSecret), new URLSearchParams(), { ...insecure, [oauth.customFetch]: transport });
      const result = await oauth.processClientCredentialsResponse(as, client, response);
      const jwks = (await (await transport(as.jwks_uri!)).json()) as JSONWebKeySet;
      const { payload } = await jwtVerify(result.access_token, createLocalJWKSet(jwks), { issuer: prefixed.issuer, audience: 'https://api.example' });
      t.is(payload.sub, 'billing', how);
    }
  } finally {
    await prefixed.close();
  }
});
