import type { Context } from 'koa';
import type { FormParams } from '../caller/presented.ts';
import { invalidRequest } from '../errors.ts';

/** Parameters that carry credentials: never accepted in a URL, where they end up in logs. */
export const CREDENTIAL_PARAMETERS = ['client_secret', 'password', 'client_assertion', 'assertion', 'subject_token', 'actor_token', 'token'];

export type { FormParams } from '../caller/presented.ts';

/** Parameters a request may send more than once: RFC 8707 §2 `resource`. */
const REPEATABLE = new Set(['resource']);
/** Enough for any real request; a token naming more APIs than this is a mistake or an attack. */
export const MAX_REPEATS = 20;

class ParsedForm extends Map<string, string> implements FormParams {
  readonly #repeated = new Map<string, string[]>();

  add(name: string, value: string): void {
    if (!this.has(name)) {
      this.set(name, value);
      return;
    }
    if (!REPEATABLE.has(name)) throw invalidRequest(`parameter ${safeName(name)} is repeated`);
    const values = this.#repeated.get(name) ?? [this.get(name)!];
    if (values.length >= MAX_REPEATS) throw invalidRequest(`parameter ${name} is repeated more than ${MAX_REPEATS} times`);
    values.push(value);
    this.#repeated.set(name, values);
  }

  all(name: string): readonly string[] {
    return this.#repeated.get(name) ?? (this.has(name) ? [this.get(name)!] : []);
  }
}

/**
 * application/x-www-form-urlencoded with the token endpoint's rules: a repeated parameter is
 * refused unless it is one of the few the standards let repeat; an empty value counts as absent.
 */
export function parseForm(body: string): FormParams {
  const params = new ParsedForm();
  for (const [name, value] of new URLSearchParams(body)) {
    if (value === '') continue;
    params.add(name, value);
  }
  return params;
}

/** The form body exactly as it arrived (http/form-body.ts keeps it), for parseForm's rules. */
export function rawBody(ctx: Context): string {
  const raw = (ctx.request as { rawBody?: unknown }).rawBody;
  return typeof raw === 'string' ? raw : '';
}

export function rejectCredentialsInQuery(querystring: string): void {
  if (!querystring) return;
  const query = new URLSearchParams(querystring);
  const found = CREDENTIAL_PARAMETERS.find((name) => query.has(name));
  if (found) throw invalidRequest(`${found} must be sent in the request body, never in the URL`);
}

export function isFormContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/x-www-form-urlencoded') return false;
  const charset = params.find((p) => p.startsWith('charset='));
  return !charset || /^charset="?utf-8"?$/.test(charset);
}

/** Parameter names are echoed in error descriptions: keep them short and printable. */
function safeName(name: string): string {
  const clean = name.replace(/[^\x21-\x7e]/g, '?').slice(0, 40);
  return clean.length > 0 ? clean : '(empty)';
}
