// Within one node, a revocation reaches the other workers at once, through the primary, instead of
// at their next poll: a client that revokes a token and then asks about it finds it revoked,
// whichever worker answers. Other nodes still learn of it by polling.
import cluster from 'node:cluster';
import type { RevocationRecord } from '../store/revocations.ts';
import type { RevocationList } from './revocation-list.ts';

const TYPE = 'tokenmint:revocation';

interface RelayedRevocation {
  type: typeof TYPE;
  id: number;
  jti: string | null;
  clientId: string | null;
  issuedBefore: number | null;
  expiresAt: number;
}

/** In the primary: passes each worker's new revocation on to every other worker. */
export function relayRevocations(): void {
  cluster.on('message', (from, message: unknown) => {
    if (!isRelayed(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (!worker || worker.id === from.id) continue;
      try {
        worker.send(message);
      } catch {
        // a worker whose channel is gone is being replaced; its successor loads every revocation
      }
    }
  });
}

/** In a worker: takes the revocations the others relay, and announces its own. A no-op outside a cluster. */
export function joinRevocationRelay(list: RevocationList): void {
  if (!cluster.isWorker) return;
  process.on('message', (message: unknown) => {
    if (isRelayed(message)) list.add(fromMessage(message));
  });
  list.announceWith((record) => {
    process.send?.(toMessage(record));
  });
}

function toMessage(record: RevocationRecord): RelayedRevocation {
  return { type: TYPE, id: record.id, jti: record.jti, clientId: record.clientId, issuedBefore: record.issuedBefore?.getTime() ?? null, expiresAt: record.expiresAt.getTime() };
}

function fromMessage(message: RelayedRevocation): RevocationRecord {
  return {
    id: message.id,
    jti: message.jti,
    clientId: message.clientId,
    issuedBefore: message.issuedBefore === null ? null : new Date(message.issuedBefore),
    expiresAt: new Date(message.expiresAt),
  };
}

function isRelayed(message: unknown): message is RelayedRevocation {
  const m = message as Partial<RelayedRevocation> | null;
  return (
    typeof m === 'object' && m !== null && m.type === TYPE && typeof m.id === 'number' && typeof m.expiresAt === 'number' &&
    (m.jti === null || typeof m.jti === 'string') && (m.clientId === null || typeof m.clientId === 'string') &&
    (m.issuedBefore === null || typeof m.issuedBefore === 'number')
  );
}
