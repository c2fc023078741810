import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import { findApplication } from '../store/applications.ts';
import type { Tx } from '../store/prisma.ts';
import { bindCertificate, deleteCertificate, findCertificate, findCertificateByFingerprint, insertCertificate, listCertificates, unbindCertificate, type NewCertificate } from '../store/trust.ts';
import type { VerificationCertificate } from '../store/types.ts';
import { CertificateError, parseVerificationPem } from '../trust/certificates.ts';
import { applicationIdsOf, existingApplication } from './applications.ts';
import type { AdminContext } from './context.ts';
import { refuseWhileBound } from './dependents.ts';
import { AdminError } from './errors.ts';
import { check, identifier, issuerName, subjectPrefix } from './input.ts';

/** A certificate checked and parsed, ready to be written (by `cert add` or a seed file). */
export type PreparedCertificate = NewCertificate;

export interface CertificateInput {
  name: string;
  pem: string;
  issuer?: string;
  subjectPrefix?: string;
}

/** Checks a certificate or public key that is to verify input JWTs; throws an AdminError naming the problem. */
export function prepareCertificate(config: AdminContext['config'], input: CertificateInput, options: { allowExpired?: boolean } = {}): PreparedCertificate {
  const name = check(identifier, input.name, 'name');
  const issuer = input.issuer === undefined ? null : check(issuerName, input.issuer, '--issuer');
  if (issuer === config.issuer) throw new AdminError('--issuer is this issuer: tokenmint never accepts its own tokens as assertions');
  if (input.subjectPrefix !== undefined && issuer === null) throw new AdminError('--subject-prefix needs --issuer: only federated assertions have subjects of their own');
  const prefix = input.subjectPrefix === undefined ? null : check(subjectPrefix, input.subjectPrefix, '--subject-prefix');
  let parsed;
  try {
    parsed = parseVerificationPem(input.pem);
  } catch (error) {
    if (error instanceof CertificateError) throw new AdminError(error.message);
    throw error;
  }
  if (!options.allowExpired && parsed.expiresAt && parsed.expiresAt <= new Date()) throw new AdminError(`the certificate expired on ${parsed.expiresAt.toISOString()}`);
  return { name, pem: parsed.pem, fingerprint: parsed.fingerprint, jwk: { ...parsed.jwk }, notBefore: parsed.notBefore, expiresAt: parsed.expiresAt, issuer, subjectPrefix: prefix };
}

/** Writes a prepared certificate bound to the applications, inside the caller's transaction. */
export async function writeCertificate(tx: Tx, cert: PreparedCertificate, clientIds: string[]): Promise<VerificationCertificate> {
  if (await findCertificate(tx, cert.name)) throw new AdminError(`a certificate named ${cert.name} exists already`);
  const twin = await findCertificateByFingerprint(tx, cert.fingerprint);
  if (twin) throw new AdminError(`this key is already stored as certificate ${twin.name}`);
  return insertCertificate(tx, cert, await applicationIdsOf(tx, clientIds));
}

/** Adds a certificate or public key that verifies input JWTs of the given applications. */
export async function addCertificate(
  ctx: AdminContext,
  input: CertificateInput & { clientIds: string[] },
): Promise<VerificationCertificate> {
  const prepared = prepareCertificate(ctx.config, input);
  if (input.clientIds.length === 0) throw new AdminError('give at least one --app: a certificate verifies JWTs for the applications it is bound to');
  return adminTransaction(ctx.db, async (tx) => {
    const cert = await writeCertificate(tx, prepared, input.clientIds);
    await recordAdminChange(tx, { action: 'certificate.added', applications: input.clientIds, details: { name: prepared.name, fingerprint: prepared.fingerprint, issuer: prepared.issuer } });
    return cert;
  });
}

export function listAllCertificates(ctx: AdminContext): Promise<VerificationCertificate[]> {
  return listCertificates(ctx.db);
}

/** Stops trusting a certificate; while it is bound to applications, only with `force`. */
export async function removeCertificate(ctx: AdminContext, name: string, force = false): Promise<VerificationCertificate> {
  return adminTransaction(ctx.db, async (tx) => {
    const cert = await existingCertificate(tx, name);
    refuseWhileBound(`certificate ${name}`, cert.clientIds, force);
    await deleteCertificate(tx, name);
    await recordAdminChange(tx, { action: 'certificate.removed', applications: cert.clientIds, details: { name, fingerprint: cert.fingerprint } });
    return cert;
  });
}

/** `cert bind`: the certificate also verifies JWTs for these applications; one it is bound to already is left as it is. */
export async function bindCertificateTo(ctx: AdminContext, name: string, clientIds: string[]): Promise<VerificationCertificate> {
  if (clientIds.length === 0) throw new AdminError('give at least one --app');
  return adminTransaction(ctx.db, async (tx) => {
    const cert = await existingCertificate(tx, name);
    const added: string[] = [];
    for (const clientId of new Set(clientIds)) {
      const app = await existingApplication(tx, clientId);
      if (cert.applicationIds.includes(app.id)) continue;
      await bindCertificate(tx, cert.id, app.id);
      added.push(clientId);
    }
    if (added.length > 0) await recordAdminChange(tx, { action: 'certificate.bound', applications: added, details: { name, fingerprint: cert.fingerprint } });
    return (await findCertificate(tx, name))!;
  });
}

/** `cert unbind`: the certificate no longer verifies JWTs for these applications. */
export async function unbindCertificateFrom(ctx: AdminContext, name: string, clientIds: string[]): Promise<VerificationCertificate> {
  if (clientIds.length === 0) throw new AdminError('give at least one --app');
  return adminTransaction(ctx.db, async (tx) => {
    const cert = await existingCertificate(tx, name);
    for (const clientId of new Set(clientIds)) {
      const app = await findApplication(tx, clientId);
      if (!app || !(await unbindCertificate(tx, cert.id, app.id))) throw new AdminError(`certificate ${name} is not bound to ${JSON.stringify(clientId)}`);
    }
    await recordAdminChange(tx, { action: 'certificate.unbound', applications: clientIds, details: { name, fingerprint: cert.fingerprint } });
    return (await findCertificate(tx, name))!;
  });
}

async function existingCertificate(tx: Tx, name: string): Promise<VerificationCertificate> {
  const cert = await findCertificate(tx, name);
  if (!cert) throw new AdminError(`no certificate ${JSON.stringify(name)}`);
  return cert;
}
