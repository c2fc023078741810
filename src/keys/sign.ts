// Compact JWS signing with node:crypto and KeyObjects: the token path's one hot cryptographic step.
// jose (WebCrypto) stays for verifying what callers send; signing our own tokens this way skips
// WebCrypto's per-call key and buffer conversions.
import { constants, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import type { SigningAlg } from '../config.ts';
import { keyHandle, SIGNING_THREAD_SOURCE, SigningThreads, type KeyHandle } from './signing-threads.ts';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  key: KeyObject;
}

type Digest = 'sha256' | null;

const DIGEST: Record<SigningAlg, Digest> = { RS256: 'sha256', PS256: 'sha256', ES256: 'sha256', EdDSA: null };

function signInput(alg: SigningAlg, key: KeyObject): KeyObject | SignKeyObjectInput {
  if (alg === 'ES256') return { key, dsaEncoding: 'ieee-p1363' };
  if (alg === 'PS256') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  return key;
}

/**
 * The process's signing threads. An ES256 or EdDSA signature takes tens of microseconds: one thread
 * keeps up with any load this process can take, and a thread that is already busy receives the next
 * batch without being woken. Its messages carry a few signatures each (about 150 µs of work), so that
 * the first answers of a busy turn come back while the event loop still reads its requests. An RSA
 * signature takes hundreds: the batch is shared among as many threads as the process has cores of its
 * own (rsaThreadsPerProcess); its threads are what the cores spend most of their time on, and smaller
 * messages did not serve more tokens.
 */
export const ELLIPTIC_CURVE_SIGNATURES_PER_MESSAGE = 6;
const ellipticCurveThreads = new SigningThreads(1, SIGNING_THREAD_SOURCE, ELLIPTIC_CURVE_SIGNATURES_PER_MESSAGE);
const rsaThreads = new SigningThreads(2);

/**
 * RSA signing threads for each of `workers` serving processes on `cores` cores: the cores shared
 * out, at least one and at most four. More threads than cores sign no faster and make every event
 * loop wait longer for a core (one process on two cores: two threads; one process per core: one
 * each); and one event loop, at most ~20,000 requests a second, asks for no more than about four
 * cores' worth of RSA signatures.
 */
export const MAX_RSA_THREADS_PER_PROCESS = 4;

export function rsaThreadsPerProcess(cores: number, workers: number): number {
  return Math.min(MAX_RSA_THREADS_PER_PROCESS, Math.max(1, Math.floor(cores / workers)));
}

/** Sizes this process's RSA signing threads; called once, before it serves. */
export function shareRsaSigningThreads(cores: number, workers: number): void {
  rsaThreads.setLimit(rsaThreadsPerProcess(cores, workers));
}
const THREADS: Record<SigningAlg, SigningThreads> = { ES256: ellipticCurveThreads, EdDSA: ellipticCurveThreads, RS256: rsaThreads, PS256: rsaThreads };

/** Signs JWTs with one key; each `typ` gets its protected header serialised once. */
export class JwsSigner {
  private readonly headers = new Map<string, string>();
  private readonly handle: KeyHandle;
  private readonly threads: SigningThreads;

  constructor(
    readonly signingKey: SigningKey,
    /** since when it signs (for the key-age metric) */
    readonly activatedAt: Date | null = null,
  ) {
    this.threads = THREADS[signingKey.alg];
    this.handle = keyHandle({ digest: DIGEST[signingKey.alg], input: signInput(signingKey.alg, signingKey.key) });
  }

  get kid(): string {
    return this.signingKey.kid;
  }

  get alg(): SigningAlg {
    return this.signingKey.alg;
  }

  /**
   * A compact JWS of `claims` with the header {alg, kid, typ}. The signature is computed on the
   * signing threads: tens of microseconds for ES256, hundreds for RS256, that the event loop spends
   * serving other requests meanwhile.
   */
  sign(typ: string, claims: Record<string, unknown>): Promise<string> {
    const data = `${this.header(typ)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return this.threads.sign(this.handle, data).then((signature) => `${data}.${signature}`);
  }

  /** Starts this key's signing threads and hands them the key, so that the first request waits for neither. */
  warmUp(): Promise<void> {
    return this.threads.warmUp(this.handle);
  }

  private header(typ: string): string {
    let header = this.headers.get(typ);
    if (header === undefined) {
      header = Buffer.from(JSON.stringify({ alg: this.alg, kid: this.kid, typ })).toString('base64url');
      this.headers.set(typ, header);
    }
    return header;
  }
}
