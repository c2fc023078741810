import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KEK_FILE_NAME = 'key-encryption-key';

/** A key-encryption key that cannot be had: its file is missing or malformed. */
export class KeyEncryptionKeyError extends Error {}

export interface KeyEncryptionKey {
  key: Buffer;
  /** where it came from, for error messages: the variable or the file's path */
  source: string;
}

export function keyEncryptionKeyPath(dataDir: string): string {
  return join(dataDir, KEK_FILE_NAME);
}

/** KEY_ENCRYPTION_KEY when set, else the key in the data directory; never makes a new one (workers, checks). */
export function readKeyEncryptionKey(configured: Buffer | undefined, dataDir: string): KeyEncryptionKey {
  if (configured) return { key: configured, source: 'KEY_ENCRYPTION_KEY' };
  const path = keyEncryptionKeyPath(dataDir);
  if (!existsSync(path)) throw new KeyEncryptionKeyError(`the key-encryption key file ${path} is missing`);
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new KeyEncryptionKeyError(`${path} does not hold a 32-byte base64 key`);
  return { key, source: path };
}

/**
 * At a deployment's start: KEY_ENCRYPTION_KEY when set, else the key in the data directory. A new
 * key is generated into the data directory only while no signing key has been sealed: once one
 * has, a missing file is an error that says to restore it, because a new key could never open
 * the sealed ones. `onGenerated` is told when a new key was written, so the caller can warn.
 */
export function provideKeyEncryptionKey(
  configured: Buffer | undefined,
  dataDir: string,
  sealedKeys: number,
  onGenerated: (path: string) => void,
): KeyEncryptionKey {
  if (configured) return { key: configured, source: 'KEY_ENCRYPTION_KEY' };
  const path = keyEncryptionKeyPath(dataDir);
  if (!existsSync(path)) {
    if (sealedKeys > 0) {
      throw new KeyEncryptionKeyError(
        `the key-encryption key file ${path} is missing, and the database holds ${sealedKeys} signing key(s) sealed with it: restore the file from the backup taken with the database (or set KEY_ENCRYPTION_KEY to its content); a new key could not open them`,
      );
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      onGenerated(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return readKeyEncryptionKey(undefined, dataDir);
}
