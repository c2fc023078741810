// The settings of a verification certificate, defined once: each one's `cert add` flag, its
// seed-file key and schema, and what export writes. The key itself (--file; file or pem) is not a
// setting: a new key replaces the certificate.
import { z } from 'zod';
import type { VerificationCertificate } from '../store/types.ts';
import type { CertificateInput } from './certificates.ts';
import { inputFromSeed } from './setting-definition.ts';

export interface CertificateSetting {
  key: string;
  input: 'issuer' | 'subjectPrefix';
  arg: string;
  help: string;
  seed: z.ZodType;
  toSeed(cert: VerificationCertificate): unknown;
}

export const CERTIFICATE_SETTINGS: CertificateSetting[] = [
  {
    key: 'issuer',
    input: 'issuer',
    arg: '<iss>',
    help: "also verify federated assertions with this iss (without it: only the applications' own private_key_jwt)",
    seed: z.string().regex(/^[\x21-\x7e]{1,512}$/, 'must be 1-512 printable characters without spaces').optional().describe('set: it verifies federated assertions with this iss'),
    toSeed: (cert) => cert.issuer ?? undefined,
  },
  {
    key: 'subject_prefix',
    input: 'subjectPrefix',
    arg: '<prefix>',
    help: 'prepended to the sub of federated assertions',
    seed: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable characters without spaces').optional(),
    toSeed: (cert) => cert.subjectPrefix ?? undefined,
  },
];

/** The settings a seed file's certificate gives, as `cert add` takes them. */
export function certificateSettingsFromSeed(entry: Record<string, unknown>): Pick<CertificateInput, 'issuer' | 'subjectPrefix'> {
  return inputFromSeed(CERTIFICATE_SETTINGS, entry);
}
