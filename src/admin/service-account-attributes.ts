import { looksLikeSecret } from '../secrets/format.ts';
import { AdminError } from './errors.ts';

/** The most JSON text `--attributes` takes: attributes are read by policies on every request. */
export const MAX_ATTRIBUTES_BYTES = 16 * 1024;
/** How deep objects and arrays may nest, the attributes object itself being the first level. */
export const MAX_ATTRIBUTES_DEPTH = 8;

/**
 * A service account's free-form attributes (`service_account.attributes` in policies), from the
 * JSON text of --attributes: an object, at most MAX_ATTRIBUTES_BYTES and MAX_ATTRIBUTES_DEPTH
 * levels, holding nothing shaped like one of our secrets (attributes are shown and exported).
 */
export function parseAttributes(text: string): Record<string, unknown> {
  if (Buffer.byteLength(text, 'utf8') > MAX_ATTRIBUTES_BYTES) throw new AdminError(`--attributes is larger than ${MAX_ATTRIBUTES_BYTES / 1024} KiB`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminError('--attributes is not JSON: give an object such as {"team": "payments"}');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AdminError('--attributes must be a JSON object, such as {"team": "payments"}');
  inspect(value, '', 1);
  return value as Record<string, unknown>;
}

function inspect(value: unknown, path: string, depth: number): void {
  if (typeof value === 'string') {
    if (looksLikeSecret(value)) throw new AdminError(`--attributes holds a value shaped like a tokenmint secret${where(path)}: secrets do not belong in attributes`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_ATTRIBUTES_DEPTH) throw new AdminError(`--attributes nests deeper than ${MAX_ATTRIBUTES_DEPTH} levels`);
  for (const [key, member] of Object.entries(value)) {
    if (looksLikeSecret(key)) throw new AdminError(`--attributes holds a key shaped like a tokenmint secret${where(path)}: secrets do not belong in attributes`);
    inspect(member, `${path}${Array.isArray(value) ? `[${key}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`, depth + 1);
  }
}

const where = (path: string) => (path === '' ? '' : ` at attributes${path.length > 120 ? `${path.slice(0, 120)}…` : path}`);
