import type { Caller } from '../caller/index.ts';
import type { FormParams } from '../caller/presented.ts';
import type { Keystore } from '../keys/keystore.ts';
import type { Application } from '../store/types.ts';
import type { AssertionDeps, VerifiedAssertion } from '../trust/assertion.ts';

export interface GrantDeps extends AssertionDeps {
  keystore: () => Keystore;
}

/** What a grant learnt, for the audit event, even when it then refuses. */
export interface GrantTrace {
  app?: Application;
  assertion?: VerifiedAssertion;
  /** the policy that denied the request */
  policy?: string;
}

export interface GrantRequest {
  params: FormParams;
  /** undefined only for grants whose client authentication is optional, when none was presented */
  caller: Caller | undefined;
  /** the client_id the request named, authenticated or not */
  clientId: string | undefined;
  ip: string;
  trace: GrantTrace;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  issued_token_type?: string;
}

export interface GrantResult {
  response: TokenResponse;
  subject: string;
  jti: string;
}

/** A grant is data plus one function. */
export interface Grant {
  grantType: string;
  /** the grant type an application must allow for this one to be used */
  requires: string;
  /** optional: the grant carries its own credential (an assertion), so a client_id alone may do */
  clientAuthentication: 'required' | 'optional';
  handle(request: GrantRequest, deps: GrantDeps): Promise<GrantResult>;
}
