import { invalidRequest } from '../errors.ts';
/** The request's form parameters, as http/form.ts parsed them: `get` the value, `all` for those that may repeat. */
export interface FormParams extends ReadonlyMap<string, string> {
  all(name: string): readonly string[];
}

/** What the request presents to identify and authenticate its caller, before any lookup. */
export interface PresentedCredentials {
  clientId: string | undefined;
  /** from the Authorization header (client_secret_basic) or the body (client_secret_post) */
  secret: { value: string; method: 'client_secret_basic' | 'client_secret_post' } | undefined;
  servicePassword: { username: string; password: string } | undefined;
  assertion: { type: string; value: string } | undefined;
  usedAuthorizationHeader: boolean;
}

/** Credentials from an `Authorization: Basic` header, as http/ decoded them. */
export interface BasicCredentials {
  clientId: string;
  secret: string;
}

/** Exactly one way of authenticating per request (RFC 6749 §2.3). */
export function presentedCredentials(basic: BasicCredentials | undefined, params: FormParams): PresentedCredentials {
  let clientId = params.get('client_id');
  let secret: PresentedCredentials['secret'];
  if (basic) {
    if (clientId !== undefined && clientId !== basic.clientId) {
      throw invalidRequest('client_id in the body differs from the one in the Authorization header');
    }
    clientId = basic.clientId;
    if (basic.secret) secret = { value: basic.secret, method: 'client_secret_basic' };
  }
  const bodySecret = params.get('client_secret');
  const assertionType = params.get('client_assertion_type');
  const username = params.get('username');
  const password = params.get('password');

  const methods = [
    basic !== undefined,
    bodySecret !== undefined && (assertionType === undefined || params.has('client_assertion')),
    assertionType !== undefined || params.has('client_assertion'),
    username !== undefined || password !== undefined,
  ].filter(Boolean).length;
  if (methods > 1) throw invalidRequest('use exactly one client authentication method per request');

  if (bodySecret !== undefined && assertionType === undefined) secret = { value: bodySecret, method: 'client_secret_post' };
  let servicePassword: PresentedCredentials['servicePassword'];
  if (username !== undefined || password !== undefined) {
    if (username === undefined || password === undefined) throw invalidRequest('username and password must be sent together');
    servicePassword = { username, password };
  }
  let assertion: PresentedCredentials['assertion'];
  if (assertionType !== undefined || params.has('client_assertion')) {
    const value = params.get('client_assertion') ?? bodySecret;
    if (assertionType === undefined || value === undefined) {
      throw invalidRequest('client_assertion and client_assertion_type must be sent together');
    }
    assertion = { type: assertionType, value };
  }
  return { clientId, secret, servicePassword, assertion, usedAuthorizationHeader: basic !== undefined };
}
