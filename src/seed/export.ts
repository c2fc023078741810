// The current state as a seed file: what `seed` applied to an empty database gives back, without a
// secret or any private material (a secret becomes `generate`).
import { stringify } from 'yaml';
import { APPLICATION_SETTINGS } from '../admin/application-definition.ts';
import { SERVICE_ACCOUNT_SETTINGS } from '../admin/service-account-definition.ts';
import { JWKS_SOURCE_SETTINGS } from '../admin/jwks-source-definition.ts';
import { CERTIFICATE_SETTINGS } from '../admin/certificate-definition.ts';
import { POLICY_SETTINGS } from '../admin/policy-definition.ts';
import { listApplications } from '../store/applications.ts';
import { listPolicies } from '../store/policies.ts';
import type { Db } from '../store/prisma.ts';
import { listServiceAccounts } from '../store/service-accounts.ts';
import { listCertificates } from '../store/trust.ts';
import { listJwksSources } from '../store/jwks-sources.ts';


export async function exportSeed(db: Db): Promise<Record<string, unknown>> {
  const [apps, accounts, policies, passwords, certificates, sources] = await Promise.all([
    listApplications(db),
    listServiceAccounts(db),
    listPolicies(db),
    db.appPassword.findMany({ where: { revokedAt: null }, select: { serviceAccountId: true, expiresAt: true } }),
    listCertificates(db),
    listJwksSources(db),
  ]);
  const clientIdOf = new Map(apps.map((a) => [a.id, a.clientId]));
  const now = Date.now();
  const holdsPassword = new Set(passwords.filter((p) => p.expiresAt === null || p.expiresAt.getTime() > now).map((p) => p.serviceAccountId));
  // by code point: the same database exports the same file whatever the machine's locale
  const byName = <T>(list: T[], name: (item: T) => string) => [...list].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  return {
    applications: byName(apps, (a) => a.clientId).map((app) => ({
      client_id: app.clientId,
      ...(app.secretId ? { client_secret: 'generate' } : {}),
      ...Object.fromEntries(APPLICATION_SETTINGS.map((setting) => [setting.key, setting.toSeed(app)])),
      enabled: app.enabled,
    })),
    service_accounts: byName(accounts, (a) => a.username).map((account) => ({
      username: account.username,
      apps: account.applicationIds.map((id) => clientIdOf.get(id)!).sort(),
      ...Object.fromEntries(SERVICE_ACCOUNT_SETTINGS.map((setting) => [setting.key, setting.toSeed(account)])),
      enabled: account.enabled,
      ...(holdsPassword.has(account.id) ? { app_password: 'generate' } : {}),
    })),
    certificates: byName(certificates, (c) => c.name).map((cert) => ({
      name: cert.name,
      apps: [...cert.clientIds].sort(),
      pem: cert.pem,
      ...Object.fromEntries(CERTIFICATE_SETTINGS.map((setting) => [setting.key, setting.toSeed(cert)]).filter(([, value]) => value !== undefined)),
    })),
    jwks_sources: byName(sources, (j) => j.name).map((source) => ({
      name: source.name,
      apps: [...source.clientIds].sort(),
      ...(source.kind === 'url' ? { url: source.url } : source.kind === 'discovery' ? { discovery: source.url } : { jwks: { keys: source.keys } }),
      ...Object.fromEntries(JWKS_SOURCE_SETTINGS.map((setting) => [setting.key, setting.toSeed(source)]).filter(([, value]) => value !== undefined)),
    })),
    // in evaluation order (a later claims policy overrides an earlier one): applying binds them in file order
    policies: byName(policies, (p) => p.name).sort((a, b) => firstPosition(a) - firstPosition(b)).map((policy) => ({
      name: policy.name,
      apps: [...policy.bindings].sort((a, b) => a.position - b.position).map((b) => b.clientId),
      ...Object.fromEntries(POLICY_SETTINGS.map((setting) => [setting.key, setting.toSeed(policy)])),
      enabled: policy.enabled,
    })),
  };
}

/** Where a policy comes in its applications' evaluation order (the earliest, for one bound to several). */
function firstPosition(policy: { bindings: { position: number }[] }): number {
  return Math.min(Number.MAX_SAFE_INTEGER, ...policy.bindings.map((b) => b.position));
}

export function formatSeed(document: Record<string, unknown>, format: 'yaml' | 'json'): string {
  return format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { lineWidth: 0 });
}
