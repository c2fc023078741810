// Trust anchors: every certificate and JWKS source as one shape, the rules an input JWT must meet
// plus where its keys come from, indexed by application and by issuer.
import type { TrustMaterial } from '../store/cached-state.ts';
import type { ReplayMode } from '../store/types.ts';
import { certificateKey, certificateResolver } from './certificate-keys.ts';
import type { JwksKeyCache } from './jwks-key-cache.ts';
import type { KeyResolver } from './verify-input-jwt.ts';

/** The rules of a verification certificate's federated assertions (a certificate has no settings of its own). */
const CERTIFICATE_RULES = { leewaySeconds: 60, maxLifetimeSeconds: 3600, replay: 'reject' as ReplayMode };

export interface TrustAnchor {
  /** `certificate:<name>` or `jwks:<name>`, as the audit log names it */
  name: string;
  /** the `iss` its JWTs state; null: a certificate that verifies only its applications' own assertions */
  issuer: string | null;
  clientIds: string[];
  algorithms: string[];
  /** empty: input JWTs must name this issuer */
  audiences: string[];
  leewaySeconds: number;
  maxLifetimeSeconds: number;
  replay: ReplayMode;
  subjectPrefix: string | null;
  resolve: KeyResolver;
}

export interface TrustIndex {
  /** the anchors bound to an application */
  forApplication(clientId: string): TrustAnchor[];
  /** the anchors stating this issuer, whatever they are bound to */
  forIssuer(issuer: string): TrustAnchor[];
}

const indexes = new WeakMap<TrustMaterial, TrustIndex>();

/** Built once per admin state: certificate keys are imported once, JWKS keys live in the cache. */
export function trustIndex(material: TrustMaterial, jwksKeys: JwksKeyCache): TrustIndex {
  let index = indexes.get(material);
  if (!index) indexes.set(material, (index = buildIndex(material, jwksKeys)));
  return index;
}

function buildIndex(material: TrustMaterial, jwksKeys: JwksKeyCache): TrustIndex {
  const anchors: TrustAnchor[] = [];
  for (const cert of material.certificates) {
    const key = certificateKey(cert);
    anchors.push({
      name: key.source,
      issuer: cert.issuer,
      clientIds: cert.clientIds,
      algorithms: key.algorithms,
      audiences: [],
      ...CERTIFICATE_RULES,
      subjectPrefix: cert.subjectPrefix,
      resolve: certificateResolver(key),
    });
  }
  for (const source of material.sources) {
    anchors.push({
      name: `jwks:${source.name}`,
      issuer: source.issuer,
      clientIds: source.clientIds,
      algorithms: source.algorithms,
      audiences: source.audiences,
      leewaySeconds: source.leewaySeconds,
      maxLifetimeSeconds: source.maxLifetimeSeconds,
      replay: source.replay,
      subjectPrefix: source.subjectPrefix,
      resolve: jwksKeys.resolver(source),
    });
  }
  const byApp = new Map<string, TrustAnchor[]>();
  const byIssuer = new Map<string, TrustAnchor[]>();
  for (const anchor of anchors) {
    for (const clientId of anchor.clientIds) byApp.set(clientId, [...(byApp.get(clientId) ?? []), anchor]);
    if (anchor.issuer !== null) byIssuer.set(anchor.issuer, [...(byIssuer.get(anchor.issuer) ?? []), anchor]);
  }
  return {
    forApplication: (clientId) => byApp.get(clientId) ?? [],
    forIssuer: (issuer) => byIssuer.get(issuer) ?? [],
  };
}
