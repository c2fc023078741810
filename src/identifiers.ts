import { looksLikeSecret, SECRET_PREFIXES } from './secrets/format.ts';

/**
 * client_ids and service-account usernames share one namespace and one shape: printable,
 * no spaces, at most 128 characters, and never starting like one of our secrets (a swapped
 * client_id and client_secret must not pass for an identifier). Input of another shape can
 * name no one.
 */
export const IDENTIFIER_PATTERN = new RegExp(`^(?!(?:${SECRET_PREFIXES.join('|')})_)[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$`, 'i');

export function isIdentifier(value: string): boolean {
  return IDENTIFIER_PATTERN.test(value);
}

/** What stands in a record for a value that looked like one of our secrets. */
export const SECRET_SHAPED = '(secret-shaped)';

/**
 * A name a caller sent, as it may be kept (audit log, throttle): itself when it could name someone,
 * `(secret-shaped)` when it looks like one of our secrets, `(malformed)` otherwise.
 */
export function nameForRecords(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (looksLikeSecret(value)) return SECRET_SHAPED;
  return isIdentifier(value) ? value : '(malformed)';
}
