// One observation per token request, at its end: grant type, how the caller authenticated,
// outcome and time taken. Label values come from fixed sets, never from what the caller wrote.
import type { Context, Middleware } from 'koa';
import type { PresentedCredentials } from '../caller/presented.ts';
import { metrics } from '../metrics/recorder.ts';
import { toOAuthError } from './error-middleware.ts';
import { tokenRequestTrace } from './token-audit.ts';

export const measureTokenRequests: Middleware = async (ctx, next) => {
  const started = performance.now();
  try {
    await next();
    observe(ctx, started, 'issued');
  } catch (error) {
    observe(ctx, started, toOAuthError(error)?.error ?? 'server_error');
    throw error;
  }
};

function observe(ctx: Context, started: number, outcome: string): void {
  const seen = tokenRequestTrace(ctx);
  // the trace names a grant type only once the registry knows it: a missing or unsupported one is `other`
  metrics.tokenRequest(seen.grantType ?? 'other', authMethod(seen.presented), outcome, (performance.now() - started) / 1000);
}

/** The method presented, whether or not it succeeded: `client_assertion` covers private_key_jwt and federated JWTs. */
function authMethod(presented: PresentedCredentials | undefined): string {
  if (presented?.secret) return presented.secret.method;
  if (presented?.servicePassword) return 'app_password';
  if (presented?.assertion) return 'client_assertion';
  return 'none';
}
