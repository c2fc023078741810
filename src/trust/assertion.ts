// Verifies a JWT a caller already holds (client assertion, jwt-bearer assertion, subject token)
// against the trust anchors, and says who it speaks for.
//
// Two modes, told apart by `iss`:
// - own (private_key_jwt): `iss` = `sub` = the application's client_id, signed with a key bound to
//   the application; strict audience; `jti` always single-use. Token `sub` = client_id.
// - federated: `iss` is an anchor's issuer (a Kubernetes cluster, a CI provider, a partner);
//   the anchor's audience, algorithm, lifetime and replay rules. Token `sub` = prefix + input `sub`.
import type { Config } from '../config.ts';
import { isIdentifier } from '../identifiers.ts';
import type { CachedState } from '../store/cached-state.ts';
import type { Db } from '../store/prisma.ts';
import { recordFirstUse } from '../store/replay.ts';
import type { Application } from '../store/types.ts';
import { trustIndex, type TrustAnchor } from './anchors.ts';
import type { JwksKeyCache } from './jwks-key-cache.ts';
import { AUDIENCE_MISMATCH, InputJwtError, unverifiedClaims, verifyInputJwt, type InputJwtPolicy, type VerifiedInputJwt } from './verify-input-jwt.ts';

const OWN_ASSERTION_RULES = { leewaySeconds: 60, maxLifetimeSeconds: 3600 };
const MAX_SUBJECT_LENGTH = 1024;

export interface AssertionDeps {
  config: Config;
  db: Db;
  state: CachedState;
  jwksKeys: JwksKeyCache;
}

export interface VerifiedAssertion {
  app: Application;
  mode: 'private_key_jwt' | 'federated';
  /** the `sub` of the token to issue */
  subject: string;
  /** the input's `iss`, `sub` and `jti`, for the token (`src_iss`) and the audit log */
  issuer: string;
  inputSubject: string | undefined;
  jti: string | undefined;
  /** the certificate or JWKS source that verified it */
  source: string;
  claims: Record<string, unknown>;
}

/**
 * Why an assertion was refused. `bad_assertion`: the JWT itself, or the application it would speak
 * for is unknown or disabled; `client_id_required`: its source serves several applications and the
 * request did not say which.
 */
export class AssertionError extends Error {
  constructor(
    readonly code: 'bad_assertion' | 'client_id_required',
    readonly reason: string,
    readonly description: string,
    /** the application a source that verified the signature speaks for, so the refusal is attributed to it */
    readonly app?: Application,
  ) {
    super(reason);
  }
}

export interface AssertionRequest {
  /** the application the request names (client_id or client authentication); undefined: found from the source */
  app: Application | undefined;
  acceptAccessTokens?: boolean;
  /** only the application's own assertions (client authentication on grants other than client_credentials) */
  ownOnly?: boolean;
}

export async function verifyAssertion(deps: AssertionDeps, token: string, request: AssertionRequest): Promise<VerifiedAssertion> {
  const attribution: Attribution = {};
  try {
    return await verify(deps, token, request, attribution);
  } catch (error) {
    if (error instanceof InputJwtError) throw new AssertionError('bad_assertion', error.reason, error.description, attribution.app);
    throw error;
  }
}

/** Filled in once a signature verified: the application the refusal of a valid-looking JWT belongs to. */
interface Attribution {
  app?: Application;
}

async function verify(deps: AssertionDeps, token: string, request: AssertionRequest, attribution: Attribution): Promise<VerifiedAssertion> {
  const iss = unverifiedClaims(token).iss;
  if (typeof iss !== 'string' || iss.length === 0) throw new InputJwtError('iss missing');
  if (iss === deps.config.issuer) throw new InputJwtError('a token of this issuer is never an assertion');

  const candidates = (await candidateAnchors(deps, iss, request.app)).filter((c) => !request.ownOnly || c.app?.clientId === iss);
  if (candidates.length === 0) throw new InputJwtError(`no trusted source for iss ${printable(iss)}`);

  let keyless: InputJwtError | undefined;
  // refusals of a claim after a source's key verified the signature, tried further: another source of
  // the same issuer (another tenant, other audiences) may be the one the JWT is for
  const claimRefusals: { error: InputJwtError; anchor: TrustAnchor; app: Application | undefined }[] = [];
  let accepted: { anchor: TrustAnchor; app: Application | undefined; own: boolean; verified: VerifiedInputJwt; policy: InputJwtPolicy } | undefined;
  for (const { anchor, app } of candidates) {
    const own = app !== undefined && iss === app.clientId;
    const policy = policyFor(deps.config, anchor, own, iss, request.acceptAccessTokens === true);
    try {
      accepted = { anchor, app, own, policy, verified: await verifyInputJwt(token, policy, anchor.resolve) };
      break;
    } catch (error) {
      if (!(error instanceof InputJwtError)) throw error;
      if (error.verifiedBy !== undefined) {
        claimRefusals.push({ error, anchor, app });
        continue;
      }
      // another source stating the same issuer may hold the key
      if (error.keyless) {
        // report the most telling refusal: a key that did not verify says more than an algorithm it does not use
        if (!keyless || (keyless.reason.startsWith('algorithm') && !error.reason.startsWith('algorithm'))) keyless = error;
        continue;
      }
      throw error;
    }
  }
  if (!accepted) {
    const first = claimRefusals[0];
    if (!first) throw keyless!;
    attribution.app = await refusedApplication(deps, claimRefusals);
    throw first.error;
  }
  const { anchor, app, own, verified, policy } = accepted;
  const target = app ?? (await soleApplication(deps, anchor));
  attribution.app = target;
  if (!target.enabled) throw new InputJwtError('application disabled');
  const { sub, jti, exp } = verified.claims;
  const subject = own ? iss : federatedSubject(anchor, sub);
  if (!own) await refuseCollision(deps, subject);
  if (own || anchor.replay === 'reject') {
    if (typeof jti !== 'string') throw new InputJwtError('jti missing');
    // single use, recorded only after every other check passed, and kept as long as the JWT
    // could still be accepted (exp plus the leeway)
    if (!(await recordFirstUse(deps.db, iss, jti, new Date((exp + policy.leewaySeconds) * 1000)))) throw new InputJwtError('jti already used');
  }
  return {
    app: target,
    mode: own ? 'private_key_jwt' : 'federated',
    subject,
    issuer: iss,
    inputSubject: typeof sub === 'string' ? sub : undefined,
    jti: typeof jti === 'string' ? jti : undefined,
    source: verified.source,
    claims: verified.claims,
  };
}

interface Candidate {
  anchor: TrustAnchor;
  /** the application the assertion would speak for, when known before verifying */
  app: Application | undefined;
}

async function candidateAnchors(deps: AssertionDeps, iss: string, named: Application | undefined): Promise<Candidate[]> {
  const index = trustIndex(await deps.state.trust(), deps.jwksKeys);
  if (named) {
    return index
      .forApplication(named.clientId)
      .filter((a) => a.issuer === iss || (a.issuer === null && iss === named.clientId))
      .map((anchor) => ({ anchor, app: named }));
  }
  const candidates: Candidate[] = index.forIssuer(iss).map((anchor) => ({ anchor, app: undefined }));
  // an application's own assertion names it in `iss`
  const own = isIdentifier(iss) ? await deps.state.application(iss) : null;
  if (own) {
    for (const candidate of candidates) if (candidate.anchor.clientIds.includes(own.clientId)) candidate.app = own;
    for (const anchor of index.forApplication(own.clientId)) if (anchor.issuer === null) candidates.push({ anchor, app: own });
  }
  return candidates;
}

function policyFor(config: Config, anchor: TrustAnchor, own: boolean, iss: string, acceptAccessTokens: boolean): InputJwtPolicy {
  if (own) {
    const base = config.issuer.replace(/\/$/, '');
    // older clients name the endpoint they post to: with compat, any endpoint of this issuer's that authenticates clients
    const values = config.clientAssertionAudience === 'compat' ? [config.issuer, `${base}/token`, `${base}/introspect`, `${base}/revoke`] : [config.issuer];
    const audience: InputJwtPolicy['audience'] = { mode: 'exactly-one', values };
    return { algorithms: anchor.algorithms, issuer: iss, audience, ...OWN_ASSERTION_RULES, subject: iss, acceptAccessTokens: false };
  }
  return {
    algorithms: anchor.algorithms,
    issuer: anchor.issuer!,
    audience: { mode: 'any-of', values: anchor.audiences.length > 0 ? anchor.audiences : [config.issuer] },
    leewaySeconds: anchor.leewaySeconds,
    maxLifetimeSeconds: anchor.maxLifetimeSeconds,
    acceptAccessTokens,
  };
}

/**
 * The application a JWT refused for a claim is attributed to: the one application every source whose
 * key verified it speaks for. None when they speak for several, or when the JWT is addressed
 * elsewhere (any holder of a token of a shared issuer could otherwise write refusals under it).
 */
async function refusedApplication(deps: AssertionDeps, refusals: { error: InputJwtError; anchor: TrustAnchor; app: Application | undefined }[]): Promise<Application | undefined> {
  if (refusals.some(({ error }) => error.reason === AUDIENCE_MISMATCH)) return undefined;
  const clientIds = new Set(refusals.flatMap(({ anchor, app }) => (app ? [app.clientId] : anchor.clientIds)));
  if (clientIds.size !== 1) return undefined;
  return (await deps.state.application([...clientIds][0]!)) ?? undefined;
}

async function soleApplication(deps: AssertionDeps, anchor: TrustAnchor): Promise<Application> {
  if (anchor.clientIds.length !== 1) {
    throw new AssertionError('client_id_required', `${anchor.name} is bound to ${anchor.clientIds.length} applications`, 'client_id is required: the source of this JWT serves several clients');
  }
  const app = await deps.state.application(anchor.clientIds[0]!);
  if (!app) throw new InputJwtError('unknown client');
  return app;
}

function federatedSubject(anchor: TrustAnchor, sub: unknown): string {
  if (typeof sub !== 'string' || sub.length === 0) throw new InputJwtError('sub missing');
  // no control characters or whitespace: "appb " must not pass for "appb"
  if (sub.length > MAX_SUBJECT_LENGTH || /[\u0000-\u0020\u007f-\u00a0\s]/.test(sub)) throw new InputJwtError('sub is not a usable subject');
  return `${anchor.subjectPrefix ?? ''}${sub}`;
}

/** A federated subject must not name a local application or service account: a `sub` means one caller. */
async function refuseCollision(deps: AssertionDeps, subject: string): Promise<void> {
  if (!isIdentifier(subject)) return;
  if ((await deps.state.application(subject)) || (await deps.state.serviceAccount(subject))) {
    throw new InputJwtError(`sub ${subject} is also a local client_id or username; give the source a subject prefix`);
  }
}

function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}
