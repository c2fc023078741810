import { z } from 'zod';
import { IDENTIFIER_PATTERN } from '../identifiers.ts';
import { AdminError } from './errors.ts';

/** client_ids and service-account usernames: one namespace, printable, no spaces. */
export const identifier = z
  .string()
  .regex(IDENTIFIER_PATTERN, 'must be 1-128 letters, digits or . _ : @ - and start with a letter or digit');

/** An `iss` (RFC 7519 StringOrURI): printable, no spaces. */
export const issuerName = z.string().regex(/^[\x21-\x7e]{1,512}$/, 'must be 1-512 printable characters without spaces');

/** Prepended to federated subjects, e.g. "k8s:" or "github:". */
export const subjectPrefix = z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable characters without spaces');

export const scopeToken = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'is not a valid scope (RFC 6749 §3.3)');

export const GRANT_TYPE_NAMES: Record<string, string> = {
  client_credentials: 'client_credentials',
  'jwt-bearer': 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:jwt-bearer': 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'token-exchange': 'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:token-exchange': 'urn:ietf:params:oauth:grant-type:token-exchange',
};

/** Validates with a schema; the first problem becomes a one-line AdminError naming the field. */
export function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const index = issue?.path[0];
    const offending = Array.isArray(value) && typeof index === 'number' ? value[index] : value;
    throw new AdminError(`${field} ${JSON.stringify(offending)} ${issue?.message ?? 'is invalid'}`);
  }
  return result.data;
}

export function grantTypes(names: string[]): string[] {
  return [...new Set(names.map((name) => {
    const full = Object.hasOwn(GRANT_TYPE_NAMES, name) ? GRANT_TYPE_NAMES[name] : undefined;
    if (!full) throw new AdminError(`unknown grant type ${JSON.stringify(name)} (known: ${Object.keys(GRANT_TYPE_NAMES).filter((n) => !n.startsWith('urn')).join(', ')})`);
    return full;
  }))];
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** "90d", "12h", "30m", "45s", "2w" → milliseconds. */
export function parseDuration(text: string, field: string): number {
  const match = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (!match || Number(match[1]) === 0) throw new AdminError(`${field} must be a duration such as 90d, 12h, 30m (got ${JSON.stringify(text)})`);
  return Number(match[1]) * UNIT_SECONDS[match[2]!]! * 1000;
}

export function splitList(text: string | undefined, separator: RegExp = /,/): string[] {
  if (text === undefined) return [];
  return text.split(separator).map((s) => s.trim()).filter((s) => s.length > 0);
}
