import type { Middleware } from 'koa';
import { SIGNING_ALGS, type Config } from '../config.ts';
import { GRANTS } from '../grants/index.ts';
import type { Keystore } from '../keys/keystore.ts';
import type { CachedState } from '../store/cached-state.ts';
import { CLIENT_AUTH_METHODS } from '../store/types.ts';
import { ASYMMETRIC_ALGS } from '../trust/verify-input-jwt.ts';
import { sendJson } from './json-body.ts';

const JWKS_MAX_AGE_SECONDS = 300;

/**
 * How long verifiers may cache the JWKS: 5 minutes, and never more than half of KEY_PUBLISH_AHEAD,
 * so that a verifier holding a copy fetched just before a next key appeared has fetched again,
 * with a margin, before that key signs.
 */
export function jwksMaxAgeSeconds(config: Config): number {
  return Math.max(1, Math.min(JWKS_MAX_AGE_SECONDS, Math.floor(config.keyPublishAheadSeconds / 2)));
}

/** The public keys, serialised once per key change; conditional requests get 304. */
export function jwks(config: Config, keystore: () => Keystore): Middleware {
  const maxAge = jwksMaxAgeSeconds(config);
  return (ctx) => {
    const { jwksBody, jwksEtag } = keystore();
    ctx.set('Cache-Control', `public, max-age=${maxAge}`);
    ctx.set('ETag', jwksEtag);
    if (ctx.get('if-none-match') === jwksEtag) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = jwksBody;
  };
}

/** The issuer's path (`/tm` for https://host/tm), '' for an issuer at the root of its host. */
export function issuerPath(config: Config): string {
  return new URL(config.issuer).pathname.replace(/\/+$/, '');
}

/**
 * RFC 8414 authorization server metadata; also served as OpenID discovery (the same document at the
 * place OIDC clients look: tokenmint is no OpenID Provider and issues no ID tokens).
 */
export function serverMetadata(config: Config, state: CachedState): Middleware {
  const base = config.issuer.replace(/\/$/, '');
  const grantTypes = [...GRANTS.keys()].filter((g) => g !== 'password');
  const fixed = {
    issuer: config.issuer,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    grant_types_supported: grantTypes,
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGS,
    introspection_endpoint: `${base}/introspect`,
    introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGS,
    // RFC 9701 §6: an introspection answer can be a JWT signed with the key that signs tokens. Every
    // algorithm a key may have, not just the current key's: a client keeps the metadata it read
    // across a rotation to another algorithm
    introspection_signing_alg_values_supported: SIGNING_ALGS,
    revocation_endpoint: `${base}/revoke`,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: ASYMMETRIC_ALGS,
    // RFC 8414 requires the member, and there is no authorization endpoint: "none" (OAuth 2.0 Multiple
    // Response Type Encoding Practices §4) is the registered value that issues nothing there
    response_types_supported: ['none'],
    subject_types_supported: ['public'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'groups', 'permissions', 'src_iss'],
  };
  return async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=60');
    if (!config.publishScopes) {
      sendJson(ctx, fixed);
      return;
    }
    // published only on request: scope names can tell an anonymous caller what the APIs behind are
    const scopes = [...new Set((await state.applications()).filter((app) => app.enabled).flatMap((app) => app.scopes))].sort();
    sendJson(ctx, scopes.length > 0 ? { ...fixed, scopes_supported: scopes } : fixed);
  };
}
