import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const KEK_FILE_NAME = 'key-encryption-key';

/**
 * KEY_ENCRYPTION_KEY when set; otherwise a key kept in the data directory, generated on first use.
 * `onGenerated` is told when a new key was written, so the caller can warn.
 */
export function loadKeyEncryptionKey(configured: Buffer | undefined, dataDir: string, onGenerated: (path: string) => void): Buffer {
  if (configured) return configured;
  const path = join(dataDir, KEK_FILE_NAME);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      onGenerated(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
  return key;
}
