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

/** RFC 6749 §2.3.1 and Appendix B: Basic credentials are form-urlencoded before base64. */
export function decodeBasic(header: string): { clientId: string; secret: string } {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) throw invalidRequest('the Authorization header must use the Basic scheme with base64 credentials');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidRequest('Basic credentials must be client_id:client_secret');
  try {
    const clientId = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    if (!clientId) throw invalidRequest('Basic credentials have an empty client_id');
    return { clientId, secret };
  } catch (error) {
    if (error instanceof URIError) throw invalidRequest('Basic credentials are not correctly form-urlencoded');
    throw error;
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** Exactly one way of authenticating per request (RFC 6749 §2.3). */
export function presentedCredentials(authorization: string | undefined, params: FormParams): PresentedCredentials {
  let clientId = params.get('client_id');
  let secret: PresentedCredentials['secret'];
  if (authorization) {
    const basic = decodeBasic(authorization);
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
    authorization !== undefined,
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
  return { clientId, secret, servicePassword, assertion, usedAuthorizationHeader: authorization !== undefined };
}
