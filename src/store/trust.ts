import type { Db, Tx } from './prisma.ts';
import { jsonObject } from './json.ts';
import { overwriteWhatIsRemoved } from './secure-delete.ts';
import type { VerificationCertificate } from './types.ts';

export type NewCertificate = Pick<VerificationCertificate, 'name' | 'pem' | 'fingerprint' | 'jwk' | 'notBefore' | 'expiresAt' | 'issuer' | 'subjectPrefix'>;

const withApps = { applications: { select: { application: { select: { id: true, clientId: true } } } } } as const;
type Row = Awaited<ReturnType<Db['verificationCertificate']['findFirstOrThrow']>> & {
  applications: { application: { id: number; clientId: string } }[];
};

function toCertificate(row: Row): VerificationCertificate {
  return {
    id: row.id,
    name: row.name,
    pem: row.pem,
    fingerprint: row.fingerprint,
    jwk: jsonObject(row.jwk),
    notBefore: row.notBefore,
    expiresAt: row.expiresAt,
    issuer: row.issuer,
    subjectPrefix: row.subjectPrefix,
    createdAt: row.createdAt,
    applicationIds: row.applications.map((b) => b.application.id),
    clientIds: row.applications.map((b) => b.application.clientId),
  };
}

export async function insertCertificate(tx: Tx, cert: NewCertificate, applicationIds: number[]): Promise<VerificationCertificate> {
  const row = await tx.verificationCertificate.create({
    data: { ...cert, jwk: JSON.stringify(cert.jwk), applications: { create: applicationIds.map((applicationId) => ({ applicationId })) } },
    include: withApps,
  });
  return toCertificate(row);
}

export async function findCertificate(db: Db | Tx, name: string): Promise<VerificationCertificate | null> {
  const row = await db.verificationCertificate.findUnique({ where: { name }, include: withApps });
  return row ? toCertificate(row) : null;
}

export async function findCertificateByFingerprint(db: Db | Tx, fingerprint: string): Promise<VerificationCertificate | null> {
  const row = await db.verificationCertificate.findUnique({ where: { fingerprint }, include: withApps });
  return row ? toCertificate(row) : null;
}

export async function listCertificates(db: Db | Tx): Promise<VerificationCertificate[]> {
  return (await db.verificationCertificate.findMany({ orderBy: { name: 'asc' }, include: withApps })).map(toCertificate);
}

export async function deleteCertificate(tx: Tx, name: string): Promise<boolean> {
  const { count } = await tx.verificationCertificate.deleteMany({ where: { name } });
  return count === 1;
}

/** Certificates whose stored PEM holds more than a public part (written by versions before this check). */
export async function listCertificatesWithPrivateText(db: Db | Tx): Promise<VerificationCertificate[]> {
  return (await db.verificationCertificate.findMany({ where: { pem: { contains: 'PRIVATE' } }, include: withApps })).map(toCertificate);
}

/** Replaces a certificate's stored PEM; SQLite overwrites the old text instead of leaving it in free pages. */
export async function replaceCertificatePem(tx: Tx, id: number, pem: string): Promise<void> {
  await overwriteWhatIsRemoved(tx);
  await tx.verificationCertificate.update({ where: { id }, data: { pem } });
}

export async function bindCertificate(tx: Tx, certificateId: number, applicationId: number): Promise<void> {
  await tx.certificateBinding.create({ data: { certificateId, applicationId } });
}

export async function unbindCertificate(tx: Tx, certificateId: number, applicationId: number): Promise<boolean> {
  const { count } = await tx.certificateBinding.deleteMany({ where: { certificateId, applicationId } });
  return count === 1;
}
