// What a seed file may say, per object kind: the fields and defaults of the CLI flags, in snake_case.
// The same zod definitions validate the file and generate its JSON Schema (schema/seed.schema.json).
import { z } from 'zod';
import { identifier } from '../admin/input.ts';
import { APPLICATION_SETTINGS } from '../admin/application-definition.ts';
import { SERVICE_ACCOUNT_SETTINGS } from '../admin/service-account-definition.ts';
import { JWKS_SOURCE_SETTINGS } from '../admin/jwks-source-definition.ts';
import { CERTIFICATE_SETTINGS } from '../admin/certificate-definition.ts';
import { POLICY_SETTINGS } from '../admin/policy-definition.ts';

/** A secret named by the environment variable that holds it, for environments that need known values. */
const envReference = z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') }).strict();
/** `generate`: made on the first apply and printed once; or `{env: NAME}`. */
const secretSource = z.union([z.literal('generate'), envReference]);


export const applicationSpec = z
  .object({
    client_id: identifier,
    client_secret: secretSource.optional().describe('none when absent; an existing secret is never removed by leaving it out'),
    // every setting app create and app update know, from the one definition they are registered from
    ...Object.fromEntries(APPLICATION_SETTINGS.map((setting) => [setting.key, setting.seed])),
    enabled: z.boolean().default(true),
  })
  .strict();

/** What a seed file's application entry holds once parsed (the settings as their definitions type them). */
export interface ApplicationSpec {
  client_id: string;
  client_secret?: SecretSource;
  name?: string;
  grants: string[];
  scopes: string[];
  default_scopes: string[];
  audiences: string[];
  ttl: number | null;
  policy_mode: 'all' | 'any';
  auth_methods: ('client_secret_basic' | 'client_secret_post' | 'private_key_jwt')[] | null;
  enabled: boolean;
  [setting: string]: unknown;
}

export const serviceAccountSpec = z
  .object({
    username: identifier,
    apps: z.array(identifier).min(1).describe('the applications it may get tokens for'),
    // every setting service-account create and update know, from the one definition they are registered from
    ...Object.fromEntries(SERVICE_ACCOUNT_SETTINGS.map((setting) => [setting.key, setting.seed])),
    enabled: z.boolean().default(true),
    app_password: secretSource.optional().describe('an app password to make sure it holds; none when absent'),
  })
  .strict();

/** What a seed file's service-account entry holds once parsed. */
export interface ServiceAccountSpec {
  username: string;
  apps: string[];
  name?: string;
  groups: string[];
  permissions: string[];
  attributes: Record<string, unknown>;
  enabled: boolean;
  app_password?: SecretSource;
  [setting: string]: unknown;
}

export const policySpec = z
  .object({
    name: identifier,
    apps: z.array(identifier).describe('in evaluation order: policies bind in the order of the file'),
    // every setting `policy add` knows, from the one definition its options are registered from
    ...Object.fromEntries(POLICY_SETTINGS.map((setting) => [setting.key, setting.seed])),
    enabled: z.boolean().default(true),
  })
  .strict();

/** What a seed file's policy entry holds once parsed. */
export interface PolicySpec {
  name: string;
  apps: string[];
  expression: string | { file: string };
  kind: 'allow' | 'claims';
  description: string;
  enabled: boolean;
  [setting: string]: unknown;
}

const httpsUrl = z.url({ protocol: /^https?$/ });

export const certificateSpec = z
  .object({
    name: identifier,
    apps: z.array(identifier),
    file: z.string().min(1).optional().describe('a PEM file, relative to the seed file'),
    pem: z.string().min(1).optional().describe('the PEM itself: an X.509 certificate or an SPKI public key'),
    // every setting `cert add` knows, from the one definition its options are registered from
    ...Object.fromEntries(CERTIFICATE_SETTINGS.map((setting) => [setting.key, setting.seed])),
  })
  .strict()
  .refine((c) => (c.file === undefined) !== (c.pem === undefined), { message: 'give exactly one of file and pem', path: ['pem'] });

export const jwksSourceSpec = z
  .object({
    name: identifier,
    apps: z.array(identifier),
    url: httpsUrl.optional().describe('a JWKS URL'),
    discovery: httpsUrl.optional().describe('an OpenID discovery URL'),
    file: z.string().min(1).optional().describe('a JWKS document, relative to the seed file'),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).optional().describe('a JWKS document inline'),
    // every setting `jwks add` knows, from the one definition its options are registered from
    ...Object.fromEntries(JWKS_SOURCE_SETTINGS.map((setting) => [setting.key, setting.seed])),
  })
  .strict()
  .refine((s) => [s.url, s.discovery, s.file, s.jwks].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of url, discovery, file and jwks', path: ['url'] });

export const seedFileSchema = z
  .object({
    applications: z.array(applicationSpec).default([]),
    service_accounts: z.array(serviceAccountSpec).default([]),
    certificates: z.array(certificateSpec).default([]),
    jwks_sources: z.array(jwksSourceSpec).default([]),
    policies: z.array(policySpec).default([]),
  })
  .strict();

/** What a seed file's certificate entry holds once parsed. */
export interface CertificateSpec {
  name: string;
  apps: string[];
  file?: string;
  pem?: string;
  issuer?: string;
  subject_prefix?: string;
  [setting: string]: unknown;
}
/** What a seed file's JWKS source entry holds once parsed. */
export interface JwksSourceSpec {
  name: string;
  apps: string[];
  url?: string;
  discovery?: string;
  file?: string;
  jwks?: { keys: Record<string, unknown>[] };
  issuer?: string;
  audiences: string[];
  algorithms: string[];
  leeway: number;
  max_lifetime: number;
  replay: 'reject' | 'allow';
  subject_prefix?: string;
  [setting: string]: unknown;
}
export type SeedFile = Omit<z.output<typeof seedFileSchema>, 'applications' | 'service_accounts' | 'jwks_sources' | 'certificates' | 'policies'> & {
  applications: ApplicationSpec[];
  service_accounts: ServiceAccountSpec[];
  jwks_sources: JwksSourceSpec[];
  certificates: CertificateSpec[];
  policies: PolicySpec[];
};
export type SecretSource = z.output<typeof secretSource>;

/** The JSON Schema editors check seed files with. */
export function seedJsonSchema(): Record<string, unknown> {
  return { title: 'tokenmint seed file', ...(z.toJSONSchema(seedFileSchema, { io: 'input' }) as Record<string, unknown>) };
}
