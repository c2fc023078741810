export type PolicyMode = 'all' | 'any';

export interface Application {
  id: number;
  clientId: string;
  name: string;
  secretHash: string | null;
  secretId: string | null;
  grantTypes: string[];
  scopes: string[];
  defaultScopes: string[];
  /** the first is the default audience */
  audiences: string[];
  accessTokenTtl: number | null;
  policyMode: PolicyMode;
  /** the client authentication methods it may use (RFC 7591 token_endpoint_auth_method, as a list); null: those it has credentials for */
  authMethods: ClientAuthMethod[] | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export interface ServiceAccount {
  id: number;
  username: string;
  displayName: string;
  groups: string[];
  permissions: string[];
  attributes: Record<string, unknown>;
  enabled: boolean;
  /** ids of the applications it may get tokens for */
  applicationIds: number[];
  createdAt: Date;
}

export interface AppPassword {
  id: string;
  serviceAccountId: number;
  hash: string;
  description: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

export type SigningKeyState = 'next' | 'active' | 'retired' | 'removed' | 'revoked';

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  state: SigningKeyState;
  publicJwk: Record<string, unknown>;
  /** encrypted at rest; see keys/encryption.ts */
  privateKey: string;
  createdAt: Date;
  /** a next key: when it becomes active */
  promoteAt: Date | null;
  activatedAt: Date | null;
  retiredAt: Date | null;
  publishUntil: Date | null;
  removedAt: Date | null;
}

export interface AuditEvent {
  at: Date;
  action: string;
  outcome: 'success' | 'failure';
  clientId?: string | null;
  subject?: string | null;
  reason?: string | null;
  ip?: string | null;
  details?: Record<string, unknown> | null;
}

export interface StoredAuditEvent extends AuditEvent {
  id: number;
}

export interface VerificationCertificate {
  id: number;
  name: string;
  pem: string;
  fingerprint: string;
  jwk: Record<string, unknown>;
  notBefore: Date | null;
  expiresAt: Date | null;
  /** null: verifies only its applications' own assertions (iss = sub = client_id) */
  issuer: string | null;
  subjectPrefix: string | null;
  createdAt: Date;
  applicationIds: number[];
  clientIds: string[];
}

export type JwksSourceKind = 'url' | 'discovery' | 'document';
export type ReplayMode = 'reject' | 'allow';

/** A public JWK as a JWKS source published it (private members are never stored). */
export type PublicJwk = Record<string, string>;

export interface JwksSource {
  id: number;
  name: string;
  kind: JwksSourceKind;
  url: string | null;
  jwksUri: string | null;
  issuer: string;
  /** empty: input JWTs must name this issuer */
  audiences: string[];
  algorithms: string[];
  leewaySeconds: number;
  maxLifetimeSeconds: number;
  replay: ReplayMode;
  subjectPrefix: string | null;
  /** the last good keys */
  keys: PublicJwk[];
  fetchedAt: Date | null;
  freshUntil: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  createdAt: Date;
  applicationIds: number[];
  clientIds: string[];
}

export interface PolicyRecord {
  id: number;
  name: string;
  kind: 'allow' | 'claims';
  expression: string;
  description: string;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** the bound applications, each with this policy's position among its policies */
  bindings: { applicationId: number; clientId: string; position: number }[];
}
