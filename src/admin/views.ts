import type { AppPassword, Application, JwksSource, PolicyRecord, ServiceAccount, SigningKeyRecord, StoredAuditEvent, VerificationCertificate } from '../store/types.ts';
import { parseVerificationPem } from '../trust/certificates.ts';

/** What the CLI shows (and prints with --json): snake_case, never a hash or a private key. */
export type View = Record<string, unknown>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function applicationView(app: Application): View {
  return {
    client_id: app.clientId,
    name: app.name,
    has_secret: app.secretHash !== null,
    grant_types: app.grantTypes,
    scopes: app.scopes,
    default_scopes: app.defaultScopes,
    audiences: app.audiences,
    default_audience: app.audiences[0] ?? null,
    access_token_ttl: app.accessTokenTtl,
    policy_mode: app.policyMode,
    auth_methods: app.authMethods,
    enabled: app.enabled,
    created_at: iso(app.createdAt),
  };
}

/** `clientIds`: the applications it is bound to. */
export function serviceAccountView(account: ServiceAccount, clientIds: string[]): View {
  return {
    username: account.username,
    display_name: account.displayName,
    applications: clientIds,
    enabled: account.enabled,
    groups: account.groups,
    permissions: account.permissions,
    attributes: account.attributes,
    created_at: iso(account.createdAt),
  };
}

function passwordStatus(password: AppPassword, now = new Date()): 'active' | 'expired' | 'revoked' {
  return password.revokedAt ? 'revoked' : password.expiresAt && password.expiresAt <= now ? 'expired' : 'active';
}

/** How many of an account's app passwords are active, expired and revoked, and when one was last used. */
export function appPasswordSummary(passwords: AppPassword[]): View {
  const count = (status: string) => passwords.filter((p) => passwordStatus(p) === status).length;
  const lastUsed = passwords.reduce<Date | null>((latest, p) => (p.lastUsedAt && (!latest || p.lastUsedAt > latest) ? p.lastUsedAt : latest), null);
  return { app_passwords: { active: count('active'), expired: count('expired'), revoked: count('revoked') }, last_used_at: iso(lastUsed) };
}

export function appPasswordView(password: AppPassword): View {
  const status = passwordStatus(password);
  return {
    id: password.id,
    description: password.description,
    status,
    created_at: iso(password.createdAt),
    expires_at: iso(password.expiresAt),
    last_used_at: iso(password.lastUsedAt),
    revoked_at: iso(password.revokedAt),
  };
}

export function signingKeyView(key: SigningKeyRecord): View {
  return {
    kid: key.kid,
    alg: key.alg,
    state: key.state,
    created_at: iso(key.createdAt),
    promote_at: iso(key.promoteAt),
    activated_at: iso(key.activatedAt),
    retired_at: iso(key.retiredAt),
    publish_until: iso(key.publishUntil),
    removed_at: iso(key.removedAt),
  };
}

export function auditEventView(event: StoredAuditEvent): View {
  return {
    id: event.id,
    at: event.at.toISOString(),
    action: event.action,
    outcome: event.outcome,
    client_id: event.clientId ?? null,
    subject: event.subject ?? null,
    reason: event.reason ?? null,
    ip: event.ip ?? null,
    details: event.details ?? null,
  };
}

export function certificateView(cert: VerificationCertificate): View {
  const { kty, crv } = cert.jwk as { kty?: string; crv?: string };
  return {
    name: cert.name,
    kind: cert.pem.includes('BEGIN CERTIFICATE') ? 'x509' : 'spki',
    key: crv ? `${kty} ${crv}` : kty,
    algorithms: parseVerificationPem(cert.pem).algorithms,
    fingerprint: cert.fingerprint,
    issuer: cert.issuer,
    subject_prefix: cert.subjectPrefix,
    applications: cert.clientIds,
    not_before: iso(cert.notBefore),
    expires_at: iso(cert.expiresAt),
    created_at: iso(cert.createdAt),
  };
}

export function jwksSourceView(source: JwksSource): View {
  return {
    name: source.name,
    kind: source.kind,
    url: source.url,
    jwks_uri: source.jwksUri,
    issuer: source.issuer,
    audiences: source.audiences.length > 0 ? source.audiences : ['(this issuer)'],
    algorithms: source.algorithms,
    leeway: source.leewaySeconds,
    max_lifetime: source.maxLifetimeSeconds,
    replay: source.replay,
    subject_prefix: source.subjectPrefix,
    applications: source.clientIds,
    keys: source.keys.length,
    kids: source.keys.map((k) => k.kid ?? '(no kid)'),
    fetched_at: iso(source.fetchedAt),
    fresh_until: iso(source.freshUntil),
    last_error: source.lastError,
    last_error_at: iso(source.lastErrorAt),
    created_at: iso(source.createdAt),
  };
}

export function policyView(policy: PolicyRecord): View {
  return {
    name: policy.name,
    kind: policy.kind,
    enabled: policy.enabled,
    applications: policy.bindings.map((b) => b.clientId),
    description: policy.description,
    expression: policy.expression,
    created_at: iso(policy.createdAt),
    updated_at: iso(policy.updatedAt),
  };
}
