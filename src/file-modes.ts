import { statSync } from 'node:fs';

/**
 * The mode of a file that users other than its owner may read (e.g. `0644`), or null when only
 * its owner can (or it does not exist).
 */
export function readableByOthers(path: string): string | null {
  try {
    const mode = statSync(path).mode & 0o777;
    return mode & 0o044 ? `0${mode.toString(8)}` : null;
  } catch {
    return null;
  }
}
