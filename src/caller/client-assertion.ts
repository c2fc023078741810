// JWT client authentication (RFC 7523 §2.2 / OIDC Core §9): private_key_jwt, or on client_credentials
// a federated assertion (authentik's "JWT authentication"). trust/assertion.ts holds the rules.
import { invalidClient } from '../errors.ts';
import { AssertionError, verifyAssertion } from '../trust/assertion.ts';
import type { Caller, CallerDeps } from './types.ts';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FAILED = 'client authentication failed';

export async function authenticateClientAssertion(deps: CallerDeps, clientId: string, type: string, value: string, grantType: string): Promise<Caller> {
  if (type !== JWT_BEARER_ASSERTION_TYPE) throw invalidClient('unsupported client_assertion_type', `client_assertion_type ${type.slice(0, 100)}`);
  const app = await deps.state.application(clientId);
  if (!app || !app.enabled) throw invalidClient(FAILED, app ? 'application disabled' : 'unknown client');
  let assertion;
  try {
    // a federated assertion names a subject of its own, which only client_credentials can carry
    assertion = await verifyAssertion(deps, value, { app, ownOnly: grantType !== 'client_credentials' });
  } catch (error) {
    if (error instanceof AssertionError) throw invalidClient(FAILED, `client assertion: ${error.reason}`);
    throw error;
  }
  return { kind: 'assertion', app, assertion };
}
