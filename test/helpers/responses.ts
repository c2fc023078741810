import type { ExecutionContext } from 'ava';
import { decodeJwt } from 'jose';

/** Asserts a 200 token response and returns the access token's claims. */
export async function granted(t: ExecutionContext, res: Response): Promise<ReturnType<typeof decodeJwt>> {
  const body = (await res.json()) as Record<string, string>;
  t.is(res.status, 200, JSON.stringify(body));
  return decodeJwt(body.access_token ?? '');
}
