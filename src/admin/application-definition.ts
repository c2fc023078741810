// The settings of an application, defined once: each one's CLI flag (app create / app update), its
// seed-file key and schema, how CLI text becomes its value, and what export writes. A new setting is
// added here (and to storage); the CLI options, the seed file, its JSON Schema and export follow.
import { z } from 'zod';
import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '../config.ts';
import { CLIENT_AUTH_METHODS, type Application } from '../store/types.ts';
import type { ApplicationFieldInput } from './application-fields.ts';
import { AdminError } from './errors.ts';
import { GRANT_TYPE_NAMES, scopeToken, splitList } from './input.ts';
import { inputFromSeed } from './setting-definition.ts';

export interface ApplicationSetting {
  /** the seed file's key (snake_case); the CLI flag is its kebab-case */
  key: string;
  /** where it goes in what app create and app update validate */
  input: keyof ApplicationFieldInput;
  /** the flag's argument, e.g. <list> */
  arg: string;
  help: { create: string; update: string };
  /** values of a repeated flag add up, joined by this separator */
  list?: ',' | ' ';
  /** app create's default, as CLI text */
  cliDefault?: string;
  /** CLI text → value; `update` accepts the keyword `default` where a setting has one */
  fromCli(text: string, update: boolean): ApplicationFieldInput[keyof ApplicationFieldInput];
  /** the seed file's value, with its default */
  seed: z.ZodType;
  /** the current value as a seed file states it (export) */
  toSeed(app: Application): unknown;
}

const audience = z.string().min(1).max(512).regex(/^[\x21-\x7e]+$/, 'must be printable without spaces');
const grantName = z.enum(Object.keys(GRANT_TYPE_NAMES) as [string, ...string[]]);
/** Full grant-type URNs back to the short names the CLI and seed files use. */
const SHORT_GRANT = new Map(Object.entries(GRANT_TYPE_NAMES).filter(([name]) => !name.startsWith('urn')).map(([name, full]) => [full, name]));

function ttlFromCli(value: string, update: boolean): number | null {
  if (update && value === 'default') return null;
  if (!/^\d+$/.test(value)) throw new AdminError(`--ttl must be a whole number of seconds${update ? ' or default' : ''}`);
  return Number(value);
}

export const APPLICATION_SETTINGS: ApplicationSetting[] = [
  {
    key: 'name',
    input: 'name',
    arg: '<name>',
    help: { create: 'display name (default: the client id)', update: 'a new display name' },
    fromCli: (text) => text,
    seed: z.string().min(1).optional().describe('display name (default: the client_id)'),
    toSeed: (app) => app.name,
  },
  {
    key: 'grants',
    input: 'grants',
    arg: '<list>',
    help: { create: 'comma-separated grant types', update: 'comma-separated grant types, replacing the current ones' },
    list: ',',
    cliDefault: 'client_credentials',
    fromCli: (text) => splitList(text),
    seed: z.array(grantName).min(1).default(['client_credentials']),
    toSeed: (app) => app.grantTypes.map((g) => SHORT_GRANT.get(g) ?? g),
  },
  {
    key: 'scopes',
    input: 'scopes',
    arg: '<scopes>',
    help: { create: 'space-separated scopes it may request', update: 'space-separated scopes it may request, replacing the current ones' },
    list: ' ',
    fromCli: (text) => splitList(text, / +/),
    seed: z.array(scopeToken).default([]),
    toSeed: (app) => app.scopes,
  },
  {
    key: 'default_scopes',
    input: 'defaultScopes',
    arg: '<scopes>',
    help: { create: 'space-separated scopes granted when none are requested', update: 'space-separated scopes granted when none are requested' },
    list: ' ',
    fromCli: (text) => splitList(text, / +/),
    seed: z.array(scopeToken).default([]),
    toSeed: (app) => app.defaultScopes,
  },
  {
    key: 'audiences',
    input: 'audiences',
    arg: '<list>',
    help: { create: 'comma-separated audiences; the first is the default', update: 'comma-separated audiences; the first is the default' },
    list: ',',
    fromCli: (text) => splitList(text),
    seed: z.array(audience).min(1).describe('the first is the default audience'),
    toSeed: (app) => app.audiences,
  },
  {
    key: 'ttl',
    input: 'ttlSeconds',
    arg: '<seconds>',
    help: { create: 'access-token lifetime', update: 'access-token lifetime, or default for ACCESS_TOKEN_TTL' },
    fromCli: ttlFromCli,
    seed: z.number().int().min(30).max(MAX_ACCESS_TOKEN_TTL_SECONDS).nullable().default(null).describe('seconds; null: ACCESS_TOKEN_TTL'),
    toSeed: (app) => app.accessTokenTtl,
  },
  {
    key: 'policy_mode',
    input: 'policyMode',
    arg: '<mode>',
    help: { create: 'all or any', update: 'all or any' },
    cliDefault: 'all',
    fromCli: (text) => text,
    seed: z.enum(['all', 'any']).default('all'),
    toSeed: (app) => app.policyMode,
  },
  {
    key: 'auth_methods',
    input: 'authMethods',
    arg: '<list>',
    help: {
      create: 'comma-separated client authentication methods it may use: client_secret_basic, client_secret_post, private_key_jwt (default: those it has credentials for)',
      update: 'comma-separated client authentication methods it may use: client_secret_basic, client_secret_post, private_key_jwt (default: those it has credentials for; default returns to that)',
    },
    list: ',',
    fromCli: (text, update) => (update && text === 'default' ? null : splitList(text)),
    seed: z.array(z.enum(CLIENT_AUTH_METHODS)).min(1).nullable().default(null).describe('null: those it has credentials for'),
    toSeed: (app) => app.authMethods,
  },
];

/** The settings a seed file's application entry gives, as app create and app update take them. */
export function settingsFromSeed(entry: Record<string, unknown>): ApplicationFieldInput {
  return inputFromSeed(APPLICATION_SETTINGS, entry);
}
