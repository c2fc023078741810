// Signing keys over their whole life: next (published ahead, not signing) → active (signing) →
// retired (published until every token it signed has expired: the longest lifetime any setting
// allows, since a lifetime lowered later says nothing of tokens signed before) → removed.
// `keys revoke` takes a key out at once. Every step is one admin transaction, so a crash between
// two steps leaves a state the next step starts from; the clock is a parameter.
import { MAX_ACCESS_TOKEN_TTL_SECONDS, type Config, type SigningAlg } from '../config.ts';
import { adminTransaction, recordAdminChange } from '../store/admin-change.ts';
import { checkpointWiped, deleteSigningKey, insertSigningKey, listSigningKeys, updateSigningKey } from '../store/keys.ts';
import type { Db, Tx } from '../store/prisma.ts';
import type { SigningKeyRecord } from '../store/types.ts';
import { generateSigningKey, type GeneratedKey } from './generate.ts';

const DAY_MS = 86_400_000;
/** Beyond the longest token lifetime, a retired key stays published this much longer (clock skew, a late worker). */
export const RETIRE_MARGIN_MS = 5 * 60_000;

export interface KeySettings {
  /** 0: manual rotation only */
  rotationDays: number;
  publishAheadMs: number;
  signingAlg: SigningAlg;
}

export function keySettings(config: Config): KeySettings {
  return { rotationDays: config.keyRotationDays, publishAheadMs: config.keyPublishAheadSeconds * 1000, signingAlg: config.signingAlg };
}

/** Who made a change, for the audit log. */
type Actor = 'schedule' | 'admin-cli';

export interface KeyChange {
  action: 'key.created' | 'key.activated' | 'key.retired' | 'key.removed' | 'key.revoked' | 'key.discarded';
  kid: string;
}

const ofState = (keys: SigningKeyRecord[], state: SigningKeyRecord['state']) => keys.filter((k) => k.state === state);
const newest = (keys: SigningKeyRecord[]) => [...keys].sort((a, b) => (b.activatedAt?.getTime() ?? 0) - (a.activatedAt?.getTime() ?? 0))[0];

/** The earliest moment a next key may sign: every verifier that respects the JWKS max-age has it by then. */
export function earliestPromotion(key: SigningKeyRecord, settings: KeySettings): Date {
  return new Date(key.createdAt.getTime() + settings.publishAheadMs);
}

/**
 * One step of the schedule at `now`: removes retired keys whose tokens have all expired, promotes a
 * next key that is due, and creates the next key ahead of a scheduled rotation. Returns what changed.
 */
export async function advanceKeyLifecycle(db: Db, kek: Buffer, settings: KeySettings, now: Date): Promise<KeyChange[]> {
  const changes: KeyChange[] = [];
  for (const key of ofState(await listSigningKeys(db), 'retired')) {
    if (key.publishUntil === null || key.publishUntil > now) continue;
    await adminTransaction(db, async (tx) => {
      const current = (await listSigningKeys(tx)).find((k) => k.kid === key.kid);
      if (current?.state !== 'retired') return;
      await updateSigningKey(tx, key.kid, { state: 'removed', removedAt: now, privateKey: '' });
      await record(tx, changes, 'schedule', { action: 'key.removed', kid: key.kid });
    });
  }
  if (changes.length > 0) await checkpointWiped(db);

  const keys = await listSigningKeys(db);
  const next = ofState(keys, 'next')[0];
  const active = newest(ofState(keys, 'active'));
  if (next && (!active || (next.promoteAt !== null && next.promoteAt <= now && earliestPromotion(next, settings) <= now))) {
    await adminTransaction(db, async (tx) => {
      const current = await listSigningKeys(tx);
      const stillNext = current.find((k) => k.kid === next.kid && k.state === 'next');
      if (stillNext) await promote(tx, changes, 'schedule', stillNext, newest(ofState(current, 'active')), settings, now);
    });
    return changes;
  }
  if (!active) return changes;
  if (settings.rotationDays > 0 && !next) {
    const due = active.activatedAt!.getTime() + settings.rotationDays * DAY_MS;
    if (now.getTime() >= due - settings.publishAheadMs) {
      const generated = await generateSigningKey(settings.signingAlg, kek);
      await adminTransaction(db, async (tx) => {
        if (ofState(await listSigningKeys(tx), 'next').length > 0) return;
        const promoteAt = new Date(Math.max(due, now.getTime() + settings.publishAheadMs));
        await insertSigningKey(tx, { ...generated, state: 'next', activatedAt: null, promoteAt, createdAt: now });
        await record(tx, changes, 'schedule', { action: 'key.created', kid: generated.kid }, { alg: generated.alg, promote_at: promoteAt.toISOString() });
      });
    }
  }
  return changes;
}

/**
 * `keys rotate`: a next key (of `alg`, by default SIGNING_ALG) promoted as soon as it has been
 * published for KEY_PUBLISH_AHEAD, or at once with `immediately`. A next key that already exists is
 * reused when its algorithm is the one asked for, and replaced otherwise (it never signed anything).
 */
export async function rotateKeys(db: Db, kek: Buffer, settings: KeySettings, options: { alg?: SigningAlg; immediately?: boolean }, now: Date): Promise<SigningKeyRecord> {
  const alg = options.alg ?? settings.signingAlg;
  const existing = ofState(await listSigningKeys(db), 'next')[0];
  const spare = existing?.alg === alg ? undefined : await generateSigningKey(alg, kek);
  const changes: KeyChange[] = [];
  const rotated = await adminTransaction(db, async (tx) => {
    const keys = await listSigningKeys(tx);
    let next = ofState(keys, 'next')[0];
    if (next && next.alg !== alg) {
      await deleteSigningKey(tx, next.kid);
      await record(tx, changes, 'admin-cli', { action: 'key.discarded', kid: next.kid }, { alg: next.alg, replaced_by_alg: alg });
      next = undefined;
    }
    if (!next) {
      const key: GeneratedKey = spare ?? (await generateSigningKey(alg, kek));
      next = await insertSigningKey(tx, { ...key, state: 'next', activatedAt: null, promoteAt: new Date(now.getTime() + settings.publishAheadMs), createdAt: now });
      await record(tx, changes, 'admin-cli', { action: 'key.created', kid: key.kid }, { alg, promote_at: next.promoteAt!.toISOString() });
    } else {
      next = await updateSigningKey(tx, next.kid, { promoteAt: new Date(Math.max(now.getTime(), earliestPromotion(next, settings).getTime())) });
    }
    if (options.immediately) await promote(tx, changes, 'admin-cli', next, newest(ofState(keys, 'active')), settings, now);
    return (await listSigningKeys(tx)).find((k) => k.kid === next!.kid)!;
  });
  if (changes.some((c) => c.action === 'key.discarded')) await checkpointWiped(db);
  return rotated;
}

/**
 * `keys revoke`: out of the JWKS at once, its private key wiped. When it was the active key, the
 * next key (or a new one) becomes active immediately.
 */
export async function revokeKey(db: Db, kek: Buffer, settings: KeySettings, kid: string, now: Date): Promise<{ revoked: SigningKeyRecord; activated: SigningKeyRecord | null }> {
  const keys = await listSigningKeys(db);
  const target = keys.find((k) => k.kid === kid);
  const spare = target?.state === 'active' && ofState(keys, 'next').length === 0 ? await generateSigningKey(settings.signingAlg, kek) : undefined;
  const changes: KeyChange[] = [];
  const outcome = await adminTransaction(db, async (tx) => {
    const current = await listSigningKeys(tx);
    const key = current.find((k) => k.kid === kid);
    if (!key) throw new KeyLifecycleError(`no signing key ${JSON.stringify(kid)}`);
    if (key.state === 'removed' || key.state === 'revoked') throw new KeyLifecycleError(`signing key ${kid} is ${key.state} already`);
    const revoked = await updateSigningKey(tx, kid, { state: 'revoked', removedAt: now, privateKey: '' });
    await record(tx, changes, 'admin-cli', { action: 'key.revoked', kid }, { was: key.state });
    if (key.state !== 'active' || ofState(current, 'active').some((k) => k.kid !== kid)) return { revoked, activated: null };
    let successor = ofState(current, 'next')[0];
    if (!successor) {
      const generated = spare ?? (await generateSigningKey(settings.signingAlg, kek));
      successor = await insertSigningKey(tx, { ...generated, state: 'next', activatedAt: null, promoteAt: now, createdAt: now });
      await record(tx, changes, 'admin-cli', { action: 'key.created', kid: generated.kid }, { alg: generated.alg });
    }
    await promote(tx, changes, 'admin-cli', successor, undefined, settings, now);
    return { revoked, activated: (await listSigningKeys(tx)).find((k) => k.kid === successor.kid)! };
  });
  await checkpointWiped(db);
  return outcome;
}

export class KeyLifecycleError extends Error {}

async function promote(tx: Tx, changes: KeyChange[], actor: Actor, next: SigningKeyRecord, active: SigningKeyRecord | undefined, settings: KeySettings, now: Date): Promise<void> {
  if (active) {
    const publishUntil = new Date(now.getTime() + MAX_ACCESS_TOKEN_TTL_SECONDS * 1000 + RETIRE_MARGIN_MS);
    await updateSigningKey(tx, active.kid, { state: 'retired', retiredAt: now, publishUntil });
    await record(tx, changes, actor, { action: 'key.retired', kid: active.kid }, { publish_until: publishUntil.toISOString() });
  }
  await updateSigningKey(tx, next.kid, { state: 'active', activatedAt: now, promoteAt: null });
  await record(tx, changes, actor, { action: 'key.activated', kid: next.kid }, { alg: next.alg });
}

async function record(tx: Tx, changes: KeyChange[], actor: Actor, change: KeyChange, details: Record<string, unknown> = {}): Promise<void> {
  await recordAdminChange(tx, { action: change.action, details: { actor, kid: change.kid, ...details } });
  changes.push(change);
}
