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
 * The audience (RFC 8693 `audience`) and resource (RFC 8707) parameters; each must be one the
 * application allows. Absent = the application's default audience.
 */
export function resolveAudience(app: Application, audience: string | undefined, resource: string | undefined): string[] {
  const requested = [...new Set([audience, resource].filter((v): v is string => v !== undefined))];
  if (requested.length === 0) {
    const fallback = app.audiences[0];
    if (!fallback) throw invalidTarget('no audience was requested and this client has no default audience');
    return [fallback];
  }
  for (const target of requested) {
    if (!app.audiences.includes(target)) throw invalidTarget(`audience ${truncate(target)} is not allowed for this client`);
  }
  return requested;
}

function truncate(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
