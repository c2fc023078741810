// RFC 6749 §4.4 client credentials; a service account's app password is accepted here too (authentik's model).
import { resolveAudience, resolveScopes } from './scope-audience.ts';
import { issueAccessToken } from './issue.ts';
import type { Grant } from './types.ts';

export const clientCredentials: Grant = {
  grantType: 'client_credentials',
  requires: 'client_credentials',
  clientAuthentication: 'required',
  async handle({ params, caller }, deps) {
    if (!caller) throw new Error('client_credentials runs only for an authenticated caller');
    const scopes = resolveScopes(caller.app, params.get('scope'));
    const audience = resolveAudience(caller.app, params.get('audience'), params.get('resource'));
    if (caller.kind === 'service-account') {
      const { account } = caller;
      return issueAccessToken(deps, {
        app: caller.app,
        subject: account.username,
        scopes,
        audience,
        extraClaims: { groups: account.groups, permissions: account.permissions },
      });
    }
    if (caller.kind === 'assertion' && caller.assertion.mode === 'federated') {
      const { assertion } = caller;
      return issueAccessToken(deps, { app: caller.app, subject: assertion.subject, scopes, audience, extraClaims: { src_iss: assertion.issuer } });
    }
    // the application itself, by its secret or by private_key_jwt
    return issueAccessToken(deps, { app: caller.app, subject: caller.app.clientId, scopes, audience });
  },
};

/** authentik treats grant_type=password like client_credentials with a service account. */
export const passwordAlias: Grant = { ...clientCredentials, grantType: 'password' };
