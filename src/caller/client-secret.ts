// RFC 6749 §2.3.1: client_secret_basic and client_secret_post.
import { invalidClient } from '../errors.ts';
import { parseSecret } from '../secrets/format.ts';
import { rehashApplicationSecret } from '../store/applications.ts';
import { clientSecretName } from './credential-name.ts';
import type { Caller, CallerDeps } from './types.ts';

const FAILED = 'client authentication failed';

export async function authenticateClientSecret(
  deps: CallerDeps,
  clientId: string,
  secret: string,
  method: 'client_secret_basic' | 'client_secret_post',
): Promise<Extract<Caller, { kind: 'application' }>> {
  const app = await deps.state.application(clientId);
  const parsed = parseSecret(secret);
  const usable = app && app.enabled && app.secretHash && app.secretId && parsed?.kind === 'client-secret' && parsed.id === app.secretId;
  if (!app || !usable) {
    await deps.verifier.verifyDummy(secret);
    throw invalidClient(FAILED, !app ? 'unknown client' : !app.enabled ? 'application disabled' : !app.secretHash ? 'application has no secret' : 'secret does not match');
  }
  const hash = app.secretHash!;
  const verification = await deps.verifier.verify(clientSecretName(clientId), hash, secret);
  if (verification === 'failed') throw invalidClient(FAILED, 'secret does not match');
  // checked only once the secret verified: the answer to a guess never tells which methods an application allows
  if (app.authMethods && !app.authMethods.includes(method)) throw invalidClient(FAILED, `${method} is not allowed for this application`);
  if (verification === 'verified') {
    deps.hasher.rehashIfNeeded(
      `app:${app.id}`,
      hash,
      secret,
      (newHash) => rehashApplicationSecret(deps.db, app.clientId, app.secretId!, newHash),
      (error) => deps.log.error({ err: error, client_id: app.clientId }, 're-hashing a client secret failed'),
    );
  }
  return { kind: 'application', app, method };
}
