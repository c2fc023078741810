// RFC 7523 §2.2 / OIDC Core §9: private_key_jwt client authentication, with the application's
// verification certificates. (Federated assertions and JWKS sources come with the JWT exchange.)
import { invalidClient } from '../errors.ts';
import { recordFirstUse } from '../store/replay.ts';
import type { VerificationCertificate } from '../store/types.ts';
import { certificateKeys, certificateResolver, type CertificateKey } from '../trust/certificate-keys.ts';
import { ASYMMETRIC_ALGS, InputJwtError, verifyInputJwt } from '../trust/verify-input-jwt.ts';
import type { Caller, CallerDeps } from './types.ts';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FAILED = 'client authentication failed';
const LEEWAY_SECONDS = 60;
const MAX_LIFETIME_SECONDS = 3600;

const importedKeys = new WeakMap<VerificationCertificate[], CertificateKey[]>();

export async function authenticateClientAssertion(deps: CallerDeps, clientId: string, type: string, assertion: string): Promise<Caller> {
  if (type !== JWT_BEARER_ASSERTION_TYPE) throw invalidClient('unsupported client_assertion_type', `client_assertion_type ${type.slice(0, 100)}`);
  const app = await deps.state.application(clientId);
  if (!app || !app.enabled) throw invalidClient(FAILED, app ? 'application disabled' : 'unknown client');
  const certificates = await deps.state.certificates(app.id);
  let keys = importedKeys.get(certificates);
  if (!keys) importedKeys.set(certificates, (keys = certificateKeys(certificates)));

  const issuer = deps.config.issuer;
  const audiences = deps.config.clientAssertionAudience === 'compat' ? [issuer, `${issuer.replace(/\/$/, '')}/token`] : [issuer];
  let verified;
  try {
    verified = await verifyInputJwt(
      assertion,
      {
        algorithms: ASYMMETRIC_ALGS,
        issuer: clientId,
        audience: audiences.length === 1 ? { mode: 'exactly-one', value: issuer } : { mode: 'any-of', values: audiences },
        leewaySeconds: LEEWAY_SECONDS,
        maxLifetimeSeconds: MAX_LIFETIME_SECONDS,
        subject: clientId,
      },
      certificateResolver(keys),
    );
  } catch (error) {
    if (error instanceof InputJwtError) throw invalidClient(FAILED, `client assertion: ${error.reason}`);
    throw error;
  }
  const { jti, exp } = verified.claims;
  if (typeof jti !== 'string') throw invalidClient(FAILED, 'client assertion: jti missing');
  // single use, recorded only after every other check passed
  if (!(await recordFirstUse(deps.db, clientId, jti, new Date(exp * 1000)))) throw invalidClient(FAILED, 'client assertion: jti already used');
  return { kind: 'assertion', app, mode: 'private_key_jwt', subject: clientId, source: verified.source, jti };
}
