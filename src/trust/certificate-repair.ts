import type { Logger } from '../logger.ts';
import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import type { Db } from '../store/prisma.ts';
import { listCertificatesWithPrivateText, replaceCertificatePem } from '../store/trust.ts';
import { publicPartOf } from './certificates.ts';

/**
 * Earlier versions stored a certificate file as given, private key included when the file held
 * one. At start-up such a record keeps only its public part; the operator is told, because a
 * private key that sat in the database (and its backups) should be treated as exposed.
 */
export async function stripStoredPrivateKeys(db: Db, log: Logger): Promise<string[]> {
  const affected = await listCertificatesWithPrivateText(db);
  const repaired: string[] = [];
  for (const cert of affected) {
    let pem: string;
    try {
      pem = publicPartOf(cert.pem).pem;
    } catch (error) {
      log.error({ certificate: cert.name, err: error }, 'a stored certificate holds private key text and no readable public part; remove it with cert remove');
      continue;
    }
    await adminTransaction(db, async (tx) => {
      await replaceCertificatePem(tx, cert.id, pem);
      await recordAdminChange(tx, { action: 'certificate.private_key_removed', applications: cert.clientIds, details: { name: cert.name, fingerprint: cert.fingerprint } });
    });
    log.warn({ certificate: cert.name }, 'a stored certificate held a private key, which was removed from the database; treat that key as exposed (older backups still hold it) and replace it');
    repaired.push(cert.name);
  }
  return repaired;
}
