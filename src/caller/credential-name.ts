import { nameForRecords } from '../identifiers.ts';
import { unverifiedClaims } from '../trust/verify-input-jwt.ts';
import type { PresentedCredentials } from './presented.ts';

/** A client secret, named by the client_id it is presented with. */
export const clientSecretName = (clientId: string): string => `client:${clientId}`;

/** An app password, named by the client_id and username it is presented with. */
export const appPasswordName = (clientId: string, username: string): string => `account:${clientId}/${username}`;

/**
 * The name of the secret a request presents, as the verified-secret cache and the throttle know
 * it. Names a caller sent that could not name anyone collapse into one placeholder, so that
 * neither keeps megabytes of garbage per request.
 */
export function presentedName(presented: PresentedCredentials): string {
  const clientId = nameForRecords(presented.clientId ?? assertionIssuer(presented)) ?? '';
  return presented.servicePassword ? appPasswordName(clientId, nameForRecords(presented.servicePassword.username)!) : clientSecretName(clientId);
}

/** An assertion sent without client_id names its client in `iss` (unverified: only a throttle key). */
function assertionIssuer(presented: PresentedCredentials): string | undefined {
  if (!presented.assertion) return undefined;
  try {
    const iss = unverifiedClaims(presented.assertion.value).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}
