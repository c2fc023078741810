// One fetch of a URL or discovery source's keys, shared by the admin CLI and the serving workers.
import type { PublicJwk } from '../store/types.ts';
import { cacheLifetimeSeconds, JwksDocumentError, parseDiscovery, parseJwks } from './jwks-document.ts';
import { fetchJson, FetchRefused, type SafeFetchOptions } from './safe-fetch.ts';

/** How long fetched keys count as fresh: Cache-Control's max-age, within these bounds. */
export const KEY_LIFETIME_BOUNDS = { minSeconds: 60, maxSeconds: 86_400, fallbackSeconds: 3_600 } as const;
export const MAX_DOCUMENT_BYTES = 512 * 1024;

export interface FetchedSourceKeys {
  keys: PublicJwk[];
  /** the discovery document's jwks_uri; null for a JWKS URL */
  jwksUri: string | null;
  /** the discovery document's issuer; null for a JWKS URL */
  discoveredIssuer: string | null;
  lifetimeSeconds: number;
}

export class SourceFetchError extends Error {}

export function fetchOptions(config: { jwksAllowPrivateNetworks: boolean; jwksFetchTimeoutMs: number }): SafeFetchOptions {
  return { allowPrivateNetworks: config.jwksAllowPrivateNetworks, timeoutMs: config.jwksFetchTimeoutMs, maxBytes: MAX_DOCUMENT_BYTES };
}

export async function fetchSourceKeys(
  source: { kind: 'url' | 'discovery'; url: string; issuer?: string },
  options: SafeFetchOptions,
): Promise<FetchedSourceKeys> {
  try {
    let jwksUrl = source.url;
    let discoveredIssuer: string | null = null;
    if (source.kind === 'discovery') {
      const discovery = parseDiscovery((await fetchJson(source.url, options)).body, source.issuer);
      jwksUrl = discovery.jwksUri;
      discoveredIssuer = discovery.issuer;
    }
    const fetched = await fetchJson(jwksUrl, options);
    return {
      keys: parseJwks(fetched.body) as PublicJwk[],
      jwksUri: source.kind === 'discovery' ? jwksUrl : null,
      discoveredIssuer,
      lifetimeSeconds: cacheLifetimeSeconds(fetched.maxAgeSeconds, KEY_LIFETIME_BOUNDS),
    };
  } catch (error) {
    if (error instanceof FetchRefused || error instanceof JwksDocumentError) throw new SourceFetchError(error.message);
    throw error;
  }
}
