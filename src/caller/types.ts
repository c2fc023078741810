import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { FailureThrottle } from './throttle.ts';
import type { SecretHasher } from '../secrets/hasher.ts';
import type { SecretVerifier } from '../secrets/verifier.ts';
import type { BackgroundWriter } from '../store/background-writer.ts';
import type { CachedState } from '../store/cached-state.ts';
import type { Db } from '../store/prisma.ts';
import type { Application, ServiceAccount } from '../store/types.ts';
import type { VerifiedAssertion } from '../trust/assertion.ts';
import type { JwksKeyCache } from '../trust/jwks-key-cache.ts';

/** Who is calling, once authenticated. Exactly one per request. */
export type Caller =
  | { kind: 'application'; app: Application; method: 'client_secret_basic' | 'client_secret_post' }
  | { kind: 'service-account'; app: Application; account: ServiceAccount; appPasswordId: string }
  | { kind: 'assertion'; app: Application; assertion: VerifiedAssertion };

/** A caller that is an application itself, by its secret or its own key, never on another's behalf. */
export type ApplicationCaller = Extract<Caller, { kind: 'application' }> | Extract<Caller, { kind: 'assertion' }>;

export interface CallerDeps {
  config: Config;
  db: Db;
  state: CachedState;
  hasher: SecretHasher;
  verifier: SecretVerifier;
  writer: BackgroundWriter;
  throttle: FailureThrottle;
  jwksKeys: JwksKeyCache;
  log: Logger;
}
