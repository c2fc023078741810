// Every "Input JWT rules" line of SPEC §3, in order; replay is the caller's last step.
import { compactVerify, errors, type CompactJWSHeaderParameters } from 'jose';
import type { KeyObject, webcrypto } from 'node:crypto';
import { inspectJson } from './json-members.ts';
import { VerifiedSignatures } from './verified-signatures.ts';

export const MAX_INPUT_JWT_BYTES = 16 * 1024;
/** Claims nest a few levels at most (Kubernetes tokens: 3); deeper input only costs the code that walks it. */
export const MAX_INPUT_JWT_DEPTH = 20;
/** Asymmetric signature algorithms only: never `none`, never HMAC. */
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** The refusal of a JWT addressed to someone else. */
export const AUDIENCE_MISMATCH = 'aud does not name this issuer';
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);
const verifiedSignatures = new VerifiedSignatures();

export interface InputJwtPolicy {
  /** the source's allowlist; intersected with ASYMMETRIC_ALGS */
  algorithms: string[];
  issuer: string;
  /** exactly-one: `aud` is one of the values, as a string or a one-element array (private_key_jwt); any-of: one member must be listed */
  audience: { mode: 'exactly-one' | 'any-of'; values: string[] };
  leewaySeconds: number;
  maxLifetimeSeconds: number;
  /** when set, `sub` must equal it (private_key_jwt: the client_id) */
  subject?: string;
  /** RFC 8693 subject tokens of type access_token may be access tokens (`typ: at+jwt`) */
  acceptAccessTokens?: boolean;
}

export interface VerificationKey {
  key: KeyObject | webcrypto.CryptoKey;
  /** which certificate or JWKS source vouches for it, for the audit log */
  source: string;
}

/** Keys come only from trusted sources, by `kid` and `alg`: never from `jwk`, `jku`, `x5u` or `x5c` headers. */
export type KeyResolver = (hint: { kid?: string; alg: string }) => Promise<VerificationKey[]>;

export interface VerifiedInputJwt {
  header: CompactJWSHeaderParameters;
  claims: Record<string, unknown> & { iss: string; exp: number; sub?: string; jti?: string };
  source: string;
}

/**
 * A refused input JWT: `reason` is for the audit log, `description` for the caller. `keyless`: no
 * key of the source verified it, so another source may still be tried.
 */
export class InputJwtError extends Error {
  /** the source whose key verified the signature, when the refusal came after that (a claim) */
  verifiedBy: string | undefined;

  constructor(
    readonly reason: string,
    readonly description = 'the JWT is not acceptable',
    readonly keyless = false,
  ) {
    super(reason);
  }
}

const refuse = (reason: string, description?: string): never => {
  throw new InputJwtError(reason, description);
};

/** The claims of a compact JWS before any verification: only to pick the sources that may verify it. */
export function unverifiedClaims(token: string): Record<string, unknown> {
  checkShape(token);
  return decodeObject(token.split('.')[1]!, 'payload');
}

function checkShape(token: string): void {
  if (token.length > MAX_INPUT_JWT_BYTES) refuse('JWT too large');
  if (!COMPACT_JWS.test(token)) refuse('not a compact JWS (JWE, JSON serialization and unsigned JWTs are refused)', 'the JWT must be a signed compact JWS');
}

export async function verifyInputJwt(token: string, policy: InputJwtPolicy, resolveKeys: KeyResolver, nowMs = Date.now()): Promise<VerifiedInputJwt> {
  checkShape(token);
  const [headerPart, payloadPart] = token.split('.') as [string, string, string];
  const header = decodeObject(headerPart, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !ASYMMETRIC_ALGS.includes(alg)) refuse(`algorithm ${printableAlg(alg)} not allowed`);
  // another source (a certificate of another key type on the same application) may allow it
  if (!policy.algorithms.includes(alg as string)) throw new InputJwtError(`algorithm ${printableAlg(alg)} not allowed`, undefined, true);
  if (header.typ !== undefined && typeof header.typ !== 'string') refuse('typ is not a string');
  if (typeof header.typ === 'string' && ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase()) && !policy.acceptAccessTokens) refuse('an access token is not an assertion');
  if (header.crit !== undefined) refuse('crit header not understood');
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length > 256)) refuse('kid is not a usable string');
  const kid = header.kid as string | undefined;
  const candidates = await resolveKeys({ kid, alg: alg as string });
  if (candidates.length === 0) throw new InputJwtError(`no trusted key${kid ? ` with kid ${kid.slice(0, 80)}` : ''}`, undefined, true);
  const digest = verifiedSignatures.digest(token);
  const remembered = verifiedSignatures.verifiedBy(digest, alg as string, candidates, nowMs);
  const verifier = remembered ?? (await firstVerifying(token, alg as string, candidates));
  const claims = decodeObject(payloadPart, 'payload');
  try {
    checkClaims(claims, policy, nowMs / 1000);
  } catch (error) {
    if (error instanceof InputJwtError) error.verifiedBy = verifier.source;
    throw error;
  }
  if (!remembered) verifiedSignatures.remember(digest, verifier.key, alg as string, claims.exp as number, nowMs);
  return { header: header as CompactJWSHeaderParameters, claims: claims as VerifiedInputJwt['claims'], source: verifier.source };
}

function printableAlg(alg: unknown): string {
  return String(alg).replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}

function decodeObject(part: string, what: string): Record<string, unknown> {
  let text: string;
  let value: unknown;
  try {
    text = Buffer.from(part, 'base64url').toString('utf8');
    value = JSON.parse(text);
  } catch {
    return refuse(`${what} is not JSON`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) refuse(`${what} is not a JSON object`);
  const shape = inspectJson(text);
  if (shape.depth > MAX_INPUT_JWT_DEPTH) refuse(`${what} nests deeper than ${MAX_INPUT_JWT_DEPTH} levels`);
  if (shape.duplicate !== null) refuse(`${what} repeats member ${shape.duplicate.slice(0, 40)}`);
  return value as Record<string, unknown>;
}

async function firstVerifying(token: string, alg: string, candidates: VerificationKey[]): Promise<VerificationKey> {
  for (const candidate of candidates) {
    try {
      await compactVerify(token, candidate.key, { algorithms: [alg] });
      return candidate;
    } catch (error) {
      if (!(error instanceof errors.JOSEError)) throw error;
    }
  }
  throw new InputJwtError('signature does not verify with any trusted key', undefined, true);
}

function checkClaims(claims: Record<string, unknown>, policy: InputJwtPolicy, now: number): void {
  const { exp, nbf, iat, iss, aud, sub } = claims;
  const leeway = policy.leewaySeconds;
  if (exp === undefined) refuse('exp missing');
  if (!isNumericDate(exp)) refuse('exp is not a NumericDate');
  if ((exp as number) <= now - leeway) refuse('expired');
  if (nbf !== undefined && (!isNumericDate(nbf) || (nbf as number) > now + leeway)) refuse('nbf in the future or invalid');
  if (iat !== undefined && (!isNumericDate(iat) || (iat as number) > now + leeway)) refuse('iat in the future or invalid');
  const issuedAt = typeof iat === 'number' ? iat : now;
  if ((exp as number) - issuedAt > policy.maxLifetimeSeconds + leeway) refuse('lifetime over the cap');
  if (iss !== policy.issuer) refuse('iss not trusted');
  if (!audienceMatches(aud, policy.audience)) refuse(AUDIENCE_MISMATCH);
  if (policy.subject !== undefined && sub !== policy.subject) refuse('sub does not match');
  if (sub !== undefined && typeof sub !== 'string') refuse('sub is not a string');
  if (claims.jti !== undefined && (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 256)) refuse('jti is not a usable string');
}

/** Seconds since the epoch, finite, within this millennium's sane range. */
function isNumericDate(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value < 32_503_680_000;
}

function audienceMatches(aud: unknown, rule: InputJwtPolicy['audience']): boolean {
  if (rule.mode === 'exactly-one') {
    const single: unknown = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
    return typeof single === 'string' && rule.values.includes(single);
  }
  const values = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  return values.some((v) => typeof v === 'string' && rule.values.includes(v));
}
