// The variables a policy sees (SPEC §5), built from what the grant established.
import type { Application, ServiceAccount } from '../store/types.ts';
import type { PolicyContext } from './expression.ts';

export interface PolicyRequest {
  grantType: string;
  ip: string;
  /** the verified input JWT's claims, for exchanged and federated JWTs */
  jwtClaims?: Record<string, unknown>;
  serviceAccount?: ServiceAccount;
}

export function policyContext(app: Application, scopes: string[], request: PolicyRequest, now = new Date()): PolicyContext {
  const account = request.serviceAccount;
  return {
    request: {
      context: { oauth_jwt: request.jwtClaims ?? {}, oauth_scopes: scopes, oauth_grant_type: request.grantType },
      ip: request.ip,
    },
    client: { client_id: app.clientId, name: app.name, grant_types: app.grantTypes, scopes: app.scopes, audiences: app.audiences },
    service_account: account
      ? { username: account.username, display_name: account.displayName, groups: account.groups, permissions: account.permissions, attributes: account.attributes }
      : null,
    now,
  };
}
