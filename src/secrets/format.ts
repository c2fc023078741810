import { randomBytes, randomInt } from 'node:crypto';

/**
 * Secrets look like `tmcs_<id>_<key>`: a recognisable prefix (so scanners and humans know what
 * leaked), a public id that finds the one stored hash to check, and 256 bits of randomness.
 */
export type SecretKind = 'client-secret' | 'app-password';

const PREFIX: Record<SecretKind, string> = { 'client-secret': 'tmcs', 'app-password': 'tmap' };
/** Every prefix a tokenmint secret starts with. */
export const SECRET_PREFIXES = Object.values(PREFIX);
/**
 * A secret of ours anywhere in a value, whole or cut short, or its id and key without the prefix
 * (which a caller could put back): such a value is never recorded.
 */
const PREFIXED = new RegExp(`(?:${SECRET_PREFIXES.join('|')})_[a-z2-9]{4}`, 'i');
const UNPREFIXED = /[abcdefghijkmnpqrstuvwxyz23456789]{16}_[A-Za-z0-9_-]{40}/;
const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const ID_LENGTH = 16;
const PATTERN = /^(tmcs|tmap)_([a-z2-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedSecret {
  kind: SecretKind;
  id: string;
}

export function newSecretId(): string {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export function generateSecret(kind: SecretKind): { id: string; secret: string } {
  const id = newSecretId();
  return { id, secret: `${PREFIX[kind]}_${id}_${randomBytes(32).toString('base64url')}` };
}

/** The kind and public id of a well-formed secret, or null. */
export function parseSecret(secret: string): ParsedSecret | null {
  const match = PATTERN.exec(secret);
  if (!match) return null;
  return { kind: match[1] === 'tmcs' ? 'client-secret' : 'app-password', id: match[2]! };
}

/** True when the value holds something shaped like one of our secrets (e.g. a secret sent in the client_id field). */
export function looksLikeSecret(value: string): boolean {
  return PREFIXED.test(value) || UNPREFIXED.test(value);
}
