// A service account by client_id + username + app password, as authentik accepts
// (grant_type=client_credentials, or password as an alias of this form).
import { invalidClient, invalidGrant } from '../errors.ts';
import { isIdentifier } from '../identifiers.ts';
import { parseSecret } from '../secrets/format.ts';
import { rehashAppPassword } from '../store/service-accounts.ts';
import type { AppPassword, Application, ServiceAccount } from '../store/types.ts';
import { appPasswordName } from './credential-name.ts';
import type { Caller, CallerDeps } from './types.ts';

const FAILED = 'invalid username or password';

export async function authenticateAppPassword(deps: CallerDeps, clientId: string, username: string, password: string): Promise<Caller> {
  // a malformed username can exist nowhere, so refusing it early tells nothing about who exists
  if (!isIdentifier(username)) throw invalidGrant(FAILED, 'malformed username');
  const app = await deps.state.application(clientId);
  if (!app || !app.enabled) {
    await deps.verifier.verifyDummy(password);
    throw invalidClient('client authentication failed', app ? 'application disabled' : 'unknown client');
  }
  const parsed = parseSecret(password);
  const [account, record] = await Promise.all([
    deps.state.serviceAccount(username),
    parsed?.kind === 'app-password' ? deps.state.appPassword(parsed.id) : Promise.resolve(null),
  ]);
  const problem = whyUnusable(app, account, record);
  if (!record || !account || problem) {
    // the same one argon2 verification whether or not the account or password exists
    if (record) await deps.verifier.spend(appPasswordName(clientId, username), record.hash, password);
    else await deps.verifier.verifyDummy(password);
    throw invalidGrant(FAILED, problem ?? 'unknown app password');
  }
  const credential = appPasswordName(clientId, username);
  const verification = await deps.verifier.verify(credential, record.hash, password);
  if (verification === 'failed') throw invalidGrant(FAILED, 'app password does not match');
  if (verification === 'verified') {
    deps.hasher.rehashIfNeeded(
      credential,
      record.hash,
      password,
      (hash) => rehashAppPassword(deps.db, record.id, hash),
      (error) => deps.log.error({ err: error, app_password_id: record.id }, 're-hashing an app password failed'),
    );
  }
  deps.writer.passwordUsed(record.id);
  return { kind: 'service-account', app, account, appPasswordId: record.id };
}

function whyUnusable(app: Application, account: ServiceAccount | null, record: AppPassword | null, now = new Date()): string | null {
  if (!account) return 'unknown service account';
  if (!record) return 'unknown app password';
  if (record.serviceAccountId !== account.id) return 'app password belongs to another account';
  if (!account.enabled) return 'service account disabled';
  if (!account.applicationIds.includes(app.id)) return 'service account not bound to the application';
  if (record.revokedAt) return 'app password revoked';
  if (record.expiresAt && record.expiresAt <= now) return 'app password expired';
  return null;
}
