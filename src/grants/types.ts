import type { Caller } from '../caller/index.ts';
import type { Config } from '../config.ts';
import type { Keystore } from '../keys/keystore.ts';

export interface GrantDeps {
  config: Config;
  keystore: () => Keystore;
}

export interface GrantRequest {
  params: ReadonlyMap<string, string>;
  caller: Caller;
  ip: string;
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
  handle(request: GrantRequest, deps: GrantDeps): Promise<GrantResult>;
}
