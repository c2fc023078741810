import { invalidClient, invalidRequest } from '../errors.ts';
import { isIdentifier } from '../identifiers.ts';
import { authenticateAppPassword } from './app-password.ts';
import { authenticateClientAssertion, type AssertionTrace } from './client-assertion.ts';
import { authenticateClientSecret } from './client-secret.ts';
import type { PresentedCredentials } from './presented.ts';
import type { ApplicationCaller, Caller, CallerDeps } from './types.ts';

export type { ApplicationCaller, Caller, CallerDeps } from './types.ts';

/** True when the request carries any client credentials (a client_id alone is none). */
export function presentsCredentials(presented: PresentedCredentials): boolean {
  return presented.secret !== undefined || presented.servicePassword !== undefined || presented.assertion !== undefined || presented.usedAuthorizationHeader;
}

/** Runs before any grant: turns what the request presented into one authenticated Caller, or throws. */
export async function authenticateCaller(deps: CallerDeps, presented: PresentedCredentials, grantType: string, trace: AssertionTrace = {}): Promise<Caller> {
  const { clientId, servicePassword, assertion, secret } = presented;
  if (grantType === 'password' && !servicePassword) {
    throw invalidRequest('grant_type=password is accepted only with client_id, username and password of a service account');
  }
  if (servicePassword && grantType !== 'password' && grantType !== 'client_credentials') {
    throw invalidRequest('username and password are accepted only with grant_type=client_credentials');
  }
  if (!servicePassword && !assertion && !(secret && clientId)) {
    throw invalidClient('client authentication is required', clientId ? 'client_id without credentials' : 'no credentials');
  }
  // with an assertion, client_id is optional (RFC 7521 §4.2): the assertion names its client
  if (!clientId && !assertion) throw invalidRequest('client_id is required with username and password');
  // a malformed client_id names no application: refused before any lookup, cache entry or argon2 work
  if (clientId !== undefined && !isIdentifier(clientId)) throw invalidClient('client authentication failed', 'malformed client_id');
  // a federated assertion names a subject of its own, which only client_credentials can carry
  if (assertion) return authenticateClientAssertion(deps, clientId, assertion.type, assertion.value, grantType !== 'client_credentials', trace);
  if (servicePassword) return authenticateAppPassword(deps, clientId!, servicePassword.username, servicePassword.password);
  return authenticateClientSecret(deps, clientId!, secret!.value, secret!.method);
}

/**
 * The caller of /introspect and /revoke: an application itself, by its secret or its own key
 * (private_key_jwt). Service accounts and federated assertions get tokens; they do not manage them.
 */
export async function authenticateApplication(deps: CallerDeps, presented: PresentedCredentials, trace: AssertionTrace = {}): Promise<ApplicationCaller> {
  const { clientId, servicePassword, assertion, secret } = presented;
  if (servicePassword) throw invalidClient('only an application authenticates here, not a service account', 'service-account credentials');
  if (!assertion && !(secret && clientId)) {
    throw invalidClient('client authentication is required', clientId ? 'client_id without credentials' : 'no credentials');
  }
  if (clientId !== undefined && !isIdentifier(clientId)) throw invalidClient('client authentication failed', 'malformed client_id');
  if (assertion) return authenticateClientAssertion(deps, clientId, assertion.type, assertion.value, true, trace);
  return authenticateClientSecret(deps, clientId!, secret!.value, secret!.method);
}
