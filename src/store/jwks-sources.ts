import type { Db, Tx } from './prisma.ts';
import { jsonObject, stringList } from './json.ts';
import type { JwksSource, JwksSourceKind, PublicJwk, ReplayMode } from './types.ts';

export type NewJwksSource = Omit<JwksSource, 'id' | 'createdAt' | 'applicationIds' | 'clientIds' | 'lastError' | 'lastErrorAt'>;

/** What a fetch learnt: the keys and when to look again, or why it failed. */
export type FetchOutcome =
  | { ok: true; keys: PublicJwk[]; jwksUri: string | null; fetchedAt: Date; freshUntil: Date }
  | { ok: false; error: string; at: Date };

const withApps = { applications: { select: { application: { select: { id: true, clientId: true } } } } } as const;
type Row = Awaited<ReturnType<Db['jwksSource']['findFirstOrThrow']>> & {
  applications: { application: { id: number; clientId: string } }[];
};

function toSource(row: Row): JwksSource {
  const keys = jsonObject(row.jwks).keys;
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as JwksSourceKind,
    url: row.url,
    jwksUri: row.jwksUri,
    issuer: row.issuer,
    audiences: stringList(row.audiences),
    algorithms: stringList(row.algorithms),
    leewaySeconds: row.leewaySeconds,
    maxLifetimeSeconds: row.maxLifetimeSeconds,
    replay: row.replay as ReplayMode,
    subjectPrefix: row.subjectPrefix,
    keys: Array.isArray(keys) ? (keys as PublicJwk[]) : [],
    fetchedAt: row.fetchedAt,
    freshUntil: row.freshUntil,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
    createdAt: row.createdAt,
    applicationIds: row.applications.map((b) => b.application.id),
    clientIds: row.applications.map((b) => b.application.clientId),
  };
}

export async function insertJwksSource(tx: Tx, source: NewJwksSource, applicationIds: number[]): Promise<JwksSource> {
  const { keys, audiences, algorithms, ...rest } = source;
  const row = await tx.jwksSource.create({
    data: {
      ...rest,
      audiences: JSON.stringify(audiences),
      algorithms: JSON.stringify(algorithms),
      jwks: JSON.stringify({ keys }),
      applications: { create: applicationIds.map((applicationId) => ({ applicationId })) },
    },
    include: withApps,
  });
  return toSource(row);
}

export async function findJwksSource(db: Db | Tx, name: string): Promise<JwksSource | null> {
  const row = await db.jwksSource.findUnique({ where: { name }, include: withApps });
  return row ? toSource(row) : null;
}

export async function listJwksSources(db: Db | Tx): Promise<JwksSource[]> {
  return (await db.jwksSource.findMany({ orderBy: { name: 'asc' }, include: withApps })).map(toSource);
}

export async function deleteJwksSource(tx: Tx, name: string): Promise<boolean> {
  const { count } = await tx.jwksSource.deleteMany({ where: { name } });
  return count === 1;
}

/**
 * Stores a fetch's keys (or its failure, keeping the last good keys). Workers call this outside
 * any admin change: the stored keys are a cache that spares the next start a fetch, so other
 * workers need not be told. A fetch never overwrites keys fetched later.
 */
export async function recordFetch(db: Db | Tx, sourceId: number, outcome: FetchOutcome): Promise<void> {
  if (outcome.ok) {
    await db.jwksSource.updateMany({
      where: { id: sourceId, OR: [{ fetchedAt: null }, { fetchedAt: { lt: outcome.fetchedAt } }] },
      data: {
        jwks: JSON.stringify({ keys: outcome.keys }),
        jwksUri: outcome.jwksUri,
        fetchedAt: outcome.fetchedAt,
        freshUntil: outcome.freshUntil,
        lastError: null,
        lastErrorAt: null,
      },
    });
  } else {
    await db.jwksSource.updateMany({ where: { id: sourceId }, data: { lastError: outcome.error.slice(0, 500), lastErrorAt: outcome.at } });
  }
}
