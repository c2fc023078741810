// RFC 6749 §4.4 client credentials; a service account's app password is accepted here too (authentik's model).
import { resolveAudience, resolveScopes } from './scope-audience.ts';
import { issueAccessToken } from './issue.ts';
import type { Grant } from './types.ts';

export const clientCredentials: Grant = {
  grantType: 'client_credentials',
  requires: 'client_credentials',
  clientAuthentication: 'required',
  async handle({ params, caller, ip, trace }, deps) {
    if (!caller) throw new Error('client_credentials runs only for an authenticated caller');
    const scopes = resolveScopes(caller.app, params.get('scope'));
    const audience = resolveAudience(caller.app, params.all('audience'), params.all('resource'));
    const common = { app: caller.app, scopes, audience, trace };
    const grantType = params.get('grant_type')!;
    if (caller.kind === 'service-account') {
      const { account } = caller;
      return issueAccessToken(deps, {
        ...common,
        subject: account.username,
        extraClaims: { groups: account.groups, permissions: account.permissions },
        policy: { grantType, ip, serviceAccount: account },
      });
    }
    if (caller.kind === 'assertion') {
      const { assertion } = caller;
      const federated = assertion.mode === 'federated';
      return issueAccessToken(deps, {
        ...common,
        subject: federated ? assertion.subject : caller.app.clientId,
        extraClaims: federated ? { src_iss: assertion.issuer } : undefined,
        policy: { grantType, ip, jwtClaims: assertion.claims },
      });
    }
    // the application itself, by its secret
    return issueAccessToken(deps, { ...common, subject: caller.app.clientId, policy: { grantType, ip } });
  },
};

/** authentik treats grant_type=password like client_credentials with a service account. */
export const passwordAlias: Grant = { ...clientCredentials, grantType: 'password' };
