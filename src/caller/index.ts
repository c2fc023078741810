import { invalidClient, invalidRequest } from '../errors.ts';
import { authenticateAppPassword } from './app-password.ts';
import { authenticateClientAssertion } from './client-assertion.ts';
import { authenticateClientSecret } from './client-secret.ts';
import type { PresentedCredentials } from './presented.ts';
import type { Caller, CallerDeps } from './types.ts';

export type { Caller, CallerDeps } from './types.ts';

/** Runs before any grant: turns what the request presented into one authenticated Caller, or throws. */
export async function authenticateCaller(deps: CallerDeps, presented: PresentedCredentials, grantType: string): Promise<Caller> {
  const { clientId } = presented;
  if (grantType === 'password' && !presented.servicePassword) {
    throw invalidRequest('grant_type=password is accepted only with client_id, username and password of a service account');
  }
  if (presented.servicePassword) {
    if (!clientId) throw invalidRequest('client_id is required with username and password');
    return authenticateAppPassword(deps, clientId, presented.servicePassword.username, presented.servicePassword.password);
  }
  if (presented.assertion) {
    if (!clientId) throw invalidRequest('client_id is required with a client assertion');
    return authenticateClientAssertion(deps, clientId, presented.assertion.type, presented.assertion.value);
  }
  if (presented.secret && clientId) {
    return authenticateClientSecret(deps, clientId, presented.secret.value, presented.secret.method);
  }
  throw invalidClient('client authentication is required', clientId ? 'client_id without credentials' : 'no credentials');
}
