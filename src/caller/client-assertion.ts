// JWT client authentication (RFC 7523 §2.2 / OIDC Core §9): private_key_jwt, or on client_credentials
// a federated assertion (authentik's "JWT authentication"). trust/assertion.ts holds the rules.
import { invalidClient } from '../errors.ts';
import type { Application } from '../store/types.ts';
import { AssertionError, verifyAssertion } from '../trust/assertion.ts';
import type { Caller, CallerDeps } from './types.ts';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FAILED = 'client authentication failed';

/** Where a refused assertion's application is noted once a trusted key verified it, for the audit log. */
export interface AssertionTrace {
  app?: Application;
}

/**
 * `clientId` is optional (RFC 7521 §4.2): without it the client is the assertion's own `iss` = `sub`,
 * or, for a federated assertion, the one application its verifying source is bound to.
 */
export async function authenticateClientAssertion(
  deps: CallerDeps,
  clientId: string | undefined,
  type: string,
  value: string,
  /** only the application's own keys, not a federated issuer's: a federated assertion names a subject of its own */
  ownOnly: boolean,
  trace: AssertionTrace = {},
): Promise<Extract<Caller, { kind: 'assertion' }>> {
  if (type !== JWT_BEARER_ASSERTION_TYPE) throw invalidClient('unsupported client_assertion_type', `client_assertion_type ${type.slice(0, 100)}`);
  let app: Application | undefined;
  if (clientId !== undefined) {
    const named = await deps.state.application(clientId);
    if (!named || !named.enabled) throw invalidClient(FAILED, named ? 'application disabled' : 'unknown client');
    app = named;
  }
  let assertion;
  try {
    assertion = await verifyAssertion(deps, value, { app, ownOnly });
  } catch (error) {
    if (error instanceof AssertionError) {
      trace.app = error.app;
      throw invalidClient(FAILED, `client assertion: ${error.reason}`);
    }
    throw error;
  }
  // service accounts and federated assertions are governed by bindings and grants, not by the methods
  const allowed = assertion.app.authMethods;
  if (assertion.mode === 'private_key_jwt' && allowed && !allowed.includes('private_key_jwt')) {
    trace.app = assertion.app;
    throw invalidClient(FAILED, 'private_key_jwt is not allowed for this application');
  }
  return { kind: 'assertion', app: assertion.app, assertion };
}
