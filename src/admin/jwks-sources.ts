import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import type { Tx } from '../store/prisma.ts';
import { deleteJwksSource, findJwksSource, insertJwksSource, listJwksSources, recordFetch } from '../store/jwks-sources.ts';
import type { JwksSource, PublicJwk, ReplayMode } from '../store/types.ts';
import { fetchOptions, fetchSourceKeys, SourceFetchError, type FetchedSourceKeys } from '../trust/fetch-source-keys.ts';
import { JwksDocumentError, parseJwks } from '../trust/jwks-document.ts';
import { importKeys } from '../trust/jwks-key-cache.ts';
import { ASYMMETRIC_ALGS } from '../trust/verify-input-jwt.ts';
import { applicationIdsOf } from './applications.ts';
import type { AdminContext } from './context.ts';
import { refuseWhileBound } from './dependents.ts';
import { AdminError } from './errors.ts';
import { check, identifier, issuerName, subjectPrefix } from './input.ts';

export const SOURCE_DEFAULTS = { algorithms: ['RS256', 'ES256'], leewaySeconds: 60, maxLifetimeSeconds: 86_400, replay: 'allow' as ReplayMode };
const LIMITS = { leewaySeconds: [0, 300], maxLifetimeSeconds: [60, 30 * 86_400] } as const;

export interface NewSourceInput {
  name: string;
  location: { kind: 'url' | 'discovery'; url: string } | { kind: 'document'; text: string };
  clientIds: string[];
  issuer?: string;
  audiences?: string[];
  algorithms?: string[];
  leewaySeconds?: number;
  maxLifetimeSeconds?: number;
  replay?: string;
  subjectPrefix?: string;
}

/** A JWKS source checked, with its keys fetched or read, ready to be written (by `jwks add` or a seed file). */
export type PreparedJwksSource = Parameters<typeof insertJwksSource>[1];

/** Checks a trusted external issuer and gets its keys: URL and discovery sources are fetched now, so a wrong URL fails here. */
export async function prepareJwksSource(ctx: AdminContext, input: Omit<NewSourceInput, 'clientIds'>): Promise<PreparedJwksSource> {
  const name = check(identifier, input.name, 'name');
  if (input.location.kind !== 'discovery' && input.issuer === undefined) throw new AdminError('--issuer is required: the iss the JWTs of this source state');
  const stated = input.issuer === undefined ? undefined : check(issuerName, input.issuer, '--issuer');
  const algorithms = checkAlgorithms(input.algorithms ?? SOURCE_DEFAULTS.algorithms);
  const audiences = (input.audiences ?? []).map((a) => check(issuerName, a, '--audiences'));
  const leewaySeconds = inRange(input.leewaySeconds ?? SOURCE_DEFAULTS.leewaySeconds, LIMITS.leewaySeconds, '--leeway');
  const maxLifetimeSeconds = inRange(input.maxLifetimeSeconds ?? SOURCE_DEFAULTS.maxLifetimeSeconds, LIMITS.maxLifetimeSeconds, '--max-lifetime');
  const replay = input.replay ?? SOURCE_DEFAULTS.replay;
  if (replay !== 'reject' && replay !== 'allow') throw new AdminError('--replay must be reject or allow');
  const prefix = input.subjectPrefix === undefined ? null : check(subjectPrefix, input.subjectPrefix, '--subject-prefix');

  const now = new Date();
  let keys: PublicJwk[];
  let fetched: FetchedSourceKeys | undefined;
  if (input.location.kind === 'document') {
    keys = documentKeys(input.location.text);
  } else {
    fetched = await fetchNow(ctx, { ...input.location, issuer: stated });
    keys = fetched.keys;
  }
  const issuer = stated ?? discoveredIssuer(input.location as { url: string }, fetched!);
  if (issuer === ctx.config.issuer) throw new AdminError('the issuer is this issuer: tokenmint never accepts its own tokens as assertions');
  requireUsableKeys(keys, algorithms);
  return {
    name,
    kind: input.location.kind,
    url: input.location.kind === 'document' ? null : input.location.url,
    jwksUri: fetched?.jwksUri ?? null,
    issuer,
    audiences,
    algorithms,
    leewaySeconds,
    maxLifetimeSeconds,
    replay,
    subjectPrefix: prefix,
    keys,
    fetchedAt: now,
    freshUntil: fetched ? new Date(now.getTime() + fetched.lifetimeSeconds * 1000) : null,
  };
}

/** Writes a prepared source bound to the applications, inside the caller's transaction. */
export async function writeJwksSource(tx: Tx, source: PreparedJwksSource, clientIds: string[]): Promise<JwksSource> {
  if (await findJwksSource(tx, source.name)) throw new AdminError(`a JWKS source named ${source.name} exists already`);
  return insertJwksSource(tx, source, await applicationIdsOf(tx, clientIds));
}

/** Adds a trusted external issuer. URL and discovery sources are fetched now, so a wrong URL fails here. */
export async function addJwksSource(ctx: AdminContext, input: NewSourceInput): Promise<JwksSource> {
  if (input.clientIds.length === 0) throw new AdminError('give at least one --app: a source verifies JWTs for the applications it is bound to');
  const prepared = await prepareJwksSource(ctx, input);
  return adminTransaction(ctx.db, async (tx) => {
    const source = await writeJwksSource(tx, prepared, input.clientIds);
    await recordAdminChange(tx, {
      action: 'jwks_source.added',
      applications: source.clientIds,
      details: { name: source.name, kind: source.kind, url: source.url, issuer: source.issuer, keys: prepared.keys.length },
    });
    return source;
  });
}

export function listAllJwksSources(ctx: AdminContext): Promise<JwksSource[]> {
  return listJwksSources(ctx.db);
}

/**
 * Fetches a URL or discovery source's keys now (or replaces a document source's keys from a new
 * document) and tells every worker at once.
 */
export async function refreshJwksSource(ctx: AdminContext, name: string, documentText?: string): Promise<JwksSource> {
  const source = await findJwksSource(ctx.db, name);
  if (!source) throw new AdminError(`no JWKS source ${JSON.stringify(name)}`);
  const now = new Date();
  let keys: PublicJwk[];
  let fetched: FetchedSourceKeys | undefined;
  if (source.kind === 'document') {
    if (documentText === undefined) throw new AdminError(`${name} is a JWKS document: give the new document with --file`);
    keys = documentKeys(documentText);
  } else {
    if (documentText !== undefined) throw new AdminError(`${name} is fetched from ${source.url}: --file applies only to document sources`);
    try {
      fetched = await fetchNow(ctx, { kind: source.kind, url: source.url!, issuer: source.issuer });
    } catch (error) {
      await recordFetch(ctx.db, source.id, { ok: false, error: (error as Error).message, at: now });
      throw error;
    }
    keys = fetched.keys;
  }
  requireUsableKeys(keys, source.algorithms);
  return adminTransaction(ctx.db, async (tx) => {
    const freshUntil = fetched ? new Date(now.getTime() + fetched.lifetimeSeconds * 1000) : now;
    await recordFetch(tx, source.id, { ok: true, keys, jwksUri: fetched?.jwksUri ?? null, fetchedAt: now, freshUntil });
    await recordAdminChange(tx, { action: 'jwks_source.refreshed', applications: source.clientIds, details: { name, keys: keys.length } });
    return (await findJwksSource(tx, name))!;
  });
}

/** Stops trusting a source; while it is bound to applications, only with `force`. */
export async function removeJwksSource(ctx: AdminContext, name: string, force = false): Promise<JwksSource> {
  return adminTransaction(ctx.db, async (tx) => {
    const source = await findJwksSource(tx, name);
    if (!source) throw new AdminError(`no JWKS source ${JSON.stringify(name)}`);
    refuseWhileBound(`JWKS source ${name}`, source.clientIds, force);
    await deleteJwksSource(tx, name);
    await recordAdminChange(tx, { action: 'jwks_source.removed', applications: source.clientIds, details: { name, issuer: source.issuer } });
    return source;
  });
}

async function fetchNow(ctx: AdminContext, location: { kind: 'url' | 'discovery'; url: string; issuer: string | undefined }): Promise<FetchedSourceKeys> {
  try {
    return await fetchSourceKeys(location, fetchOptions(ctx.config));
  } catch (error) {
    if (error instanceof SourceFetchError) throw new AdminError(`cannot fetch the keys of ${location.url}: ${error.message}`);
    throw error;
  }
}

/**
 * OpenID Connect Discovery §4: the document of issuer X lives at X/.well-known/openid-configuration.
 * A document found elsewhere could claim any issuer, so it is believed only when --issuer says the same.
 */
function discoveredIssuer(location: { url: string }, fetched: FetchedSourceKeys): string {
  const issuer = fetched.discoveredIssuer!;
  if (location.url !== `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`) {
    throw new AdminError(`the discovery document at ${location.url} names issuer ${JSON.stringify(issuer.slice(0, 200))}, which is not where it was found; give --issuer if that is the issuer you trust`);
  }
  return issuer;
}

export function documentKeys(text: string): PublicJwk[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminError('the JWKS document is not JSON');
  }
  try {
    return parseJwks(value) as PublicJwk[];
  } catch (error) {
    if (error instanceof JwksDocumentError) throw new AdminError(error.message);
    throw error;
  }
}

function requireUsableKeys(keys: PublicJwk[], algorithms: string[]): void {
  const usable = importKeys(keys).filter((k) => k.algorithms.some((a) => algorithms.includes(a)));
  if (usable.length === 0) throw new AdminError(`the source has no public signature key for ${algorithms.join(', ')}`);
}

export function checkAlgorithms(algorithms: string[]): string[] {
  if (algorithms.length === 0) throw new AdminError('--algorithms must name at least one algorithm');
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGS.includes(alg)) throw new AdminError(`--algorithms: ${JSON.stringify(alg)} is not allowed (never none or HMAC; use ${ASYMMETRIC_ALGS.join(', ')})`);
  }
  return [...new Set(algorithms)];
}

function inRange(value: number, [min, max]: readonly [number, number], flag: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new AdminError(`${flag} must be a whole number of seconds from ${min} to ${max}`);
  return value;
}
