// What a seed file may say, per object kind: the fields and defaults of the CLI flags, in snake_case.
// The same zod definitions validate the file and generate its JSON Schema (schema/seed.schema.json).
import { z } from 'zod';
import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '../config.ts';
import { CLIENT_AUTH_METHODS } from '../store/types.ts';
import { GRANT_TYPE_NAMES, identifier, scopeToken } from '../admin/input.ts';
import { POLICY_KINDS } from '../policies/expression.ts';

/** A secret named by the environment variable that holds it, for environments that need known values. */
const envReference = z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') }).strict();
/** `generate`: made on the first apply and printed once; or `{env: NAME}`. */
const secretSource = z.union([z.literal('generate'), envReference]);
const fileReference = z.object({ file: z.string().min(1) }).strict();

const audience = z.string().min(1).max(512).regex(/^[\x21-\x7e]+$/, 'must be printable without spaces');
const label = z.string().min(1).max(256).regex(/^[^\s,]+$/, 'must not contain spaces or commas');
const grantName = z.enum(Object.keys(GRANT_TYPE_NAMES) as [string, ...string[]]);

export const applicationSpec = z
  .object({
    client_id: identifier,
    name: z.string().min(1).max(256).optional().describe('default: the client_id'),
    client_secret: secretSource.optional().describe('none when absent; an existing secret is never removed by leaving it out'),
    grants: z.array(grantName).min(1).default(['client_credentials']),
    scopes: z.array(scopeToken).default([]),
    default_scopes: z.array(scopeToken).default([]),
    audiences: z.array(audience).min(1).describe('the first is the default audience'),
    ttl: z.number().int().min(30).max(MAX_ACCESS_TOKEN_TTL_SECONDS).nullable().default(null).describe('seconds; null: ACCESS_TOKEN_TTL'),
    policy_mode: z.enum(['all', 'any']).default('all'),
    auth_methods: z.array(z.enum(CLIENT_AUTH_METHODS)).min(1).nullable().default(null).describe('null: those it has credentials for'),
    enabled: z.boolean().default(true),
  })
  .strict();

export const serviceAccountSpec = z
  .object({
    username: identifier,
    display_name: z.string().min(1).max(256).optional().describe('default: the username'),
    apps: z.array(identifier).min(1).describe('the applications it may get tokens for'),
    groups: z.array(label).default([]),
    permissions: z.array(label).default([]),
    attributes: z.record(z.string(), z.unknown()).default({}),
    enabled: z.boolean().default(true),
    app_password: secretSource.optional().describe('an app password to make sure it holds; none when absent'),
  })
  .strict();

export const policySpec = z
  .object({
    name: identifier,
    apps: z.array(identifier).min(1),
    kind: z.enum(POLICY_KINDS).default('allow'),
    expression: z.union([z.string().min(1), fileReference]).describe('CEL, inline or {file: path relative to the seed file}'),
    description: z.string().max(1000).default(''),
    enabled: z.boolean().default(true),
  })
  .strict();

export const seedFileSchema = z
  .object({
    applications: z.array(applicationSpec).default([]),
    service_accounts: z.array(serviceAccountSpec).default([]),
    policies: z.array(policySpec).default([]),
  })
  .strict();

export type ApplicationSpec = z.output<typeof applicationSpec>;
export type ServiceAccountSpec = z.output<typeof serviceAccountSpec>;
export type PolicySpec = z.output<typeof policySpec>;
export type SeedFile = z.output<typeof seedFileSchema>;
export type SecretSource = z.output<typeof secretSource>;

/** The JSON Schema editors check seed files with. */
export function seedJsonSchema(): Record<string, unknown> {
  return { title: 'tokenmint seed file', ...(z.toJSONSchema(seedFileSchema, { io: 'input' }) as Record<string, unknown>) };
}
