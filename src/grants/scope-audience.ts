import { invalidScope, invalidTarget } from '../errors.ts';
import type { Application } from '../store/types.ts';

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** The requested scopes, each allowed for the application; absent = the application's defaults. */
export function resolveScopes(app: Application, requested: string | undefined): string[] {
  if (requested === undefined) return [...app.defaultScopes];
  const scopes = [...new Set(requested.split(' ').filter((s) => s.length > 0))];
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope)) throw invalidScope('scope contains characters RFC 6749 does not allow');
    if (!app.scopes.includes(scope)) throw invalidScope(`scope ${scope} is not allowed for this client`);
  }
  return scopes;
}

/**
 * The audience (RFC 8693 `audience`, at most one) and resources (RFC 8707 `resource`, repeatable)
 * requested, each one the application allows; the token's `aud` is their list. None requested =
 * the application's default audience.
 */
export function resolveAudience(app: Application, audiences: readonly string[], resources: readonly string[]): string[] {
  for (const resource of resources) {
    if (!isAbsoluteUriWithoutFragment(resource)) throw invalidTarget(`resource ${truncate(resource)} is not an absolute URI without a fragment`);
    if (!app.audiences.includes(resource)) throw invalidTarget(`resource ${truncate(resource)} is not allowed for this client`);
  }
  for (const audience of audiences) {
    if (!app.audiences.includes(audience)) throw invalidTarget(`audience ${truncate(audience)} is not allowed for this client`);
  }
  const requested = [...new Set([...audiences, ...resources])];
  if (requested.length === 0) {
    const fallback = app.audiences[0];
    if (!fallback) throw invalidTarget('no audience was requested and this client has no default audience');
    return [fallback];
  }
  return requested;
}

/** RFC 8707 §2: "an absolute URI … MUST NOT include a fragment component". */
function isAbsoluteUriWithoutFragment(value: string): boolean {
  if (value.includes('#') || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) return false;
  return URL.canParse(value);
}

function truncate(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
