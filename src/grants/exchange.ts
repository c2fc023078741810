// The part the jwt-bearer and token-exchange grants share: find the application, verify the JWT
// it brings, and issue for the subject the JWT speaks for.
import { invalidGrant, invalidRequest } from '../errors.ts';
import { isIdentifier } from '../identifiers.ts';
import type { Application } from '../store/types.ts';
import { AssertionError, verifyAssertion, type VerifiedAssertion } from '../trust/assertion.ts';
import { requireGrantAllowed } from './allowed.ts';
import { issueAccessToken } from './issue.ts';
import { resolveAudience, resolveScopes } from './scope-audience.ts';
import type { Grant, GrantDeps, GrantRequest, GrantResult } from './types.ts';

export async function exchangeJwt(
  grant: Grant,
  request: GrantRequest,
  deps: GrantDeps,
  token: string,
  options: { what: string; acceptAccessTokens?: boolean; issuedTokenType?: string },
): Promise<GrantResult> {
  const named = request.caller?.app ?? (request.clientId !== undefined ? await namedApplication(deps, request.clientId, options.what) : undefined);
  if (named) request.trace.app = named;
  let assertion: VerifiedAssertion;
  try {
    assertion = await verifyAssertion(deps, token, { app: named, acceptAccessTokens: options.acceptAccessTokens });
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    if (error.app) request.trace.app = error.app;
    if (error.code === 'client_id_required') throw invalidRequest(error.description);
    throw invalidGrant(`the ${options.what} is not acceptable`, `${options.what}: ${error.reason}`);
  }
  const { app } = assertion;
  request.trace.app = app;
  request.trace.assertion = assertion;
  requireGrantAllowed(app, grant);

  const scopes = resolveScopes(app, request.params.get('scope'));
  const audience = resolveAudience(app, request.params.all('audience'), request.params.all('resource'));
  const result = await issueAccessToken(deps, {
    app,
    subject: assertion.subject,
    scopes,
    audience,
    extraClaims: assertion.mode === 'federated' ? { src_iss: assertion.issuer } : undefined,
    policy: { grantType: grant.grantType, ip: request.ip, jwtClaims: assertion.claims },
    trace: request.trace,
  });
  if (options.issuedTokenType) result.response = { ...result.response, issued_token_type: options.issuedTokenType };
  return result;
}

/**
 * A client_id sent without client authentication: the assertion will have to vouch for it. An
 * unknown application is refused like a bad assertion, so that the answer never tells whether
 * a client_id exists.
 */
async function namedApplication(deps: GrantDeps, clientId: string, what: string): Promise<Application> {
  const app = isIdentifier(clientId) ? await deps.state.application(clientId) : null;
  if (!app || !app.enabled) throw invalidGrant(`the ${what} is not acceptable`, !isIdentifier(clientId) ? 'malformed client_id' : app ? 'application disabled' : 'unknown client');
  return app;
}
