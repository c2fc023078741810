import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import { deleteApplication, findApplicationDependents, type ApplicationDependents } from '../store/applications.ts';
import { deleteServiceAccounts } from '../store/service-accounts.ts';
import { revokeIssuedBefore } from '../store/revocations.ts';
import type { Application } from '../store/types.ts';
import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '../config.ts';
import { existingApplication } from './applications.ts';
import type { AdminContext } from './context.ts';
import { nameList } from './dependents.ts';
import { AdminError } from './errors.ts';

/** What `app delete --force` did besides deleting the application. */
export interface RemovedApplication {
  app: Application;
  /** service accounts bound to no other application, deleted with their app passwords */
  deletedServiceAccounts: string[];
  /** bindings removed: the objects themselves stay, bound to their other applications or to none */
  unbound: { serviceAccounts: string[]; certificates: string[]; jwksSources: string[]; policies: string[] };
}

/**
 * Deletes an application. While anything refers to it (service accounts, certificates, JWKS sources,
 * policies) it is refused, naming them, unless `force`: then the service accounts bound to it alone
 * are deleted with their app passwords, and everything else only loses its binding to it.
 */
export async function removeApplication(ctx: AdminContext, clientId: string, force: boolean): Promise<RemovedApplication> {
  return adminTransaction(ctx.db, async (tx) => {
    const app = await existingApplication(tx, clientId);
    const dependents = await findApplicationDependents(tx, app.id);
    const alone = dependents.serviceAccounts.filter((a) => a.applications === 1);
    const removed: RemovedApplication = {
      app,
      deletedServiceAccounts: alone.map((a) => a.username),
      unbound: {
        serviceAccounts: dependents.serviceAccounts.filter((a) => a.applications > 1).map((a) => a.username),
        certificates: dependents.certificates,
        jwksSources: dependents.jwksSources,
        policies: dependents.policies,
      },
    };
    const described = describeDependents(dependents);
    if (described && !force) {
      const accounts = alone.length > 0 ? ` with the service accounts bound only to it (${nameList(removed.deletedServiceAccounts)})` : '';
      throw new AdminError(`application ${clientId} is in use by ${described}; --force deletes it${accounts} and removes its bindings`);
    }
    await deleteServiceAccounts(tx, alone.map((a) => a.id));
    if (!(await deleteApplication(tx, clientId))) throw new AdminError(`no application ${JSON.stringify(clientId)}`);
    await revokeIssuedBefore(tx, deletionCut(clientId));
    for (const username of removed.deletedServiceAccounts) {
      await recordAdminChange(tx, { action: 'service_account.deleted', clientId, subject: username, details: { reason: 'its only application was deleted' } });
    }
    await recordAdminChange(tx, {
      action: 'app.deleted',
      clientId,
      details: {
        deleted_service_accounts: removed.deletedServiceAccounts,
        unbound_service_accounts: removed.unbound.serviceAccounts,
        unbound_certificates: removed.unbound.certificates,
        unbound_jwks_sources: removed.unbound.jwksSources,
        unbound_policies: removed.unbound.policies,
      },
    });
    return removed;
  });
}

/** "service accounts a, b; certificate c; policy d", or null when nothing refers to the application. */
function describeDependents(dependents: ApplicationDependents): string | null {
  const kinds: [string, string, string[]][] = [
    ['service account', 'service accounts', dependents.serviceAccounts.map((a) => a.username)],
    ['certificate', 'certificates', dependents.certificates],
    ['JWKS source', 'JWKS sources', dependents.jwksSources],
    ['policy', 'policies', dependents.policies],
  ];
  const parts = kinds.filter(([, , names]) => names.length > 0).map(([one, many, names]) => `${names.length === 1 ? one : many} ${nameList(names)}`);
  return parts.length > 0 ? parts.join('; ') : null;
}

/** How long running servers may take to see an admin change (2 s), with a margin. */
const PROPAGATION_MS = 3000;

/**
 * Everything issued under the client_id until every server has seen the deletion: introspection
 * answers it inactive, even should the client_id be created again at once and the old secret
 * still be accepted somewhere for those seconds.
 */
export function deletionCut(clientId: string, now = Date.now()): { clientId: string; issuedBefore: Date; expiresAt: Date } {
  const issuedBefore = new Date(now + PROPAGATION_MS);
  return { clientId, issuedBefore, expiresAt: new Date(issuedBefore.getTime() + MAX_ACCESS_TOKEN_TTL_SECONDS * 1000) };
}
