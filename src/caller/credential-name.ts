import { isIdentifier, nameForRecords } from '../identifiers.ts';
import { looksLikeSecret } from '../secrets/format.ts';
import { unverifiedClaims } from '../trust/verify-input-jwt.ts';
import type { PresentedCredentials } from './presented.ts';

/** A client secret, named by the client_id it is presented with. */
export const clientSecretName = (clientId: string): string => `client:${clientId}`;

/** An app password, named by the client_id and username it is presented with. */
export const appPasswordName = (clientId: string, username: string): string => `account:${clientId}/${username}`;

/**
 * The name of the secret a request presents, as the verified-secret cache and the throttle know
 * it. Names a caller sent that could not name anyone collapse into one placeholder, so that
 * neither keeps megabytes of garbage per request. An assertion sent without client_id is named by
 * its (unverified) `iss`: its client_id, or an issuer a source trusts; so one team's stale token
 * does not throttle another team's from the same address.
 */
export async function presentedName(presented: PresentedCredentials, isTrustedIssuer: (iss: string) => Promise<boolean> = async () => false): Promise<string> {
  if (presented.clientId === undefined && presented.assertion) return assertionName(presented.assertion.value, isTrustedIssuer);
  const clientId = nameForRecords(presented.clientId) ?? '';
  return presented.servicePassword ? appPasswordName(clientId, nameForRecords(presented.servicePassword.username)!) : clientSecretName(clientId);
}

const MAX_ISSUER_NAME = 300;

async function assertionName(assertion: string, isTrustedIssuer: (iss: string) => Promise<boolean>): Promise<string> {
  let iss: unknown;
  try {
    iss = unverifiedClaims(assertion).iss;
  } catch {
    return clientSecretName('(malformed)');
  }
  if (typeof iss !== 'string') return clientSecretName('(malformed)');
  if (isIdentifier(iss) && !looksLikeSecret(iss)) return clientSecretName(iss);
  // only an issuer some source trusts gets a name of its own: a caller cannot mint throttle keys
  if (iss.length <= MAX_ISSUER_NAME && (await isTrustedIssuer(iss))) return `issuer:${iss}`;
  return 'issuer:(untrusted)';
}
