// The client-authentication steps every endpoint that authenticates a client shares: read what the
// request presents, refuse a throttled caller before any argon2 work, and count failures.
import type { Context } from 'koa';
import { presentedName } from '../caller/credential-name.ts';
import { presentedCredentials, type FormParams, type PresentedCredentials } from '../caller/presented.ts';
import type { CallerDeps } from '../caller/index.ts';
import { OAuthError } from '../errors.ts';
import { metrics } from '../metrics/recorder.ts';
import { trustIndex } from '../trust/anchors.ts';
import { decodeBasic } from './basic-credentials.ts';

export interface PresentedClient {
  presented: PresentedCredentials;
  /** the name the throttle and the verified-secret cache know the caller by */
  name: string;
}

/** What the request presents, from its Authorization header or its body. */
export async function readClientCredentials(ctx: Context, deps: CallerDeps, params: FormParams): Promise<PresentedClient> {
  const authorization = ctx.request.get('authorization');
  const presented = presentedCredentials(authorization ? decodeBasic(authorization) : undefined, params);
  const name = await presentedName(presented, async (iss) => trustIndex(await deps.state.trust(), deps.jwksKeys).forIssuer(iss).length > 0);
  return { presented, name };
}

/**
 * 429 slow_down when the caller, or its address, has used up its failures. A secret this process
 * verified recently for this very caller costs nothing to check again and is never throttled (asked
 * only when the throttle would refuse, so the hot path hashes the secret once).
 */
export function refuseIfThrottled(deps: CallerDeps, ip: string, client: PresentedClient): void {
  const throttled = deps.throttle.refusal(ip, client.name);
  if (throttled && !presentsKnownSecret(deps, client)) {
    metrics.throttleRefused();
    throw throttled;
  }
}

/** Runs the steps that authenticate; an invalid_client or invalid_grant refusal counts as a failure of the caller and its address. */
export async function countingFailures<T>(deps: CallerDeps, ip: string, client: PresentedClient, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (error) {
    if (error instanceof OAuthError && (error.error === 'invalid_client' || error.error === 'invalid_grant')) deps.throttle.recordFailure(ip, client.name);
    throw error;
  }
}

function presentsKnownSecret(deps: CallerDeps, { presented, name }: PresentedClient): boolean {
  const secret = presented.secret?.value ?? presented.servicePassword?.password;
  return secret !== undefined && deps.verifier.knows(secret, name);
}
