/**
 * client_ids and service-account usernames share one namespace and one shape: printable,
 * no spaces, at most 128 characters. Input of another shape can name no one.
 */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export function isIdentifier(value: string): boolean {
  return IDENTIFIER_PATTERN.test(value);
}
