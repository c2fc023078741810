import { AdminError } from './errors.ts';

/** At most this many names of one kind in a message; the rest are counted. */
const NAMES_SHOWN = 20;

/** "a, b, c" or "a, b, … and 12 more": a refusal stays one readable line however much depends on something. */
export function nameList(names: string[]): string {
  if (names.length <= NAMES_SHOWN) return names.join(', ');
  return `${names.slice(0, NAMES_SHOWN).join(', ')} and ${names.length - NAMES_SHOWN} more`;
}

/**
 * Removing a certificate, JWKS source or policy changes what its applications accept: while it is
 * bound to any, it is removed only with --force, and the refusal names them.
 */
export function refuseWhileBound(what: string, clientIds: string[], force: boolean): void {
  if (force || clientIds.length === 0) return;
  const applications = clientIds.length === 1 ? 'application' : 'applications';
  throw new AdminError(`${what} is bound to ${applications} ${nameList(clientIds)}: give --force to remove it and its bindings`);
}
