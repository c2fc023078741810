// For interoperability tests with standard OAuth client libraries: the real server whose issuer
// identifier is the address it listens on (so discovery and the issuer checks of a client work
// as they would in production), and client key pairs with X.509 certificates made by openssl.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importPKCS8, type CryptoKey } from 'jose';
import { createApp, startInstance, type Instance } from './instance.ts';
import { freePort } from './process.ts';

export interface ReachableInstance extends Instance {
  /** ISSUER_URL, e.g. http://127.0.0.1:40123 or http://127.0.0.1:40123/tm */
  issuer: string;
}

/** startInstance on a free port whose URL (plus `path`) is the issuer identifier. */
export async function startReachable(env: Record<string, string> = {}, path = ''): Promise<ReachableInstance> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const instance = await startInstance({ PORT: String(port), ISSUER_URL: `http://127.0.0.1:${port}${path}`, ...env });
      return Object.assign(instance, { issuer: instance.config.issuer });
    } catch (error) {
      // another process took the port between freePort() and listen()
      if (attempt < 4 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw error;
    }
  }
}

export type KeyKind = 'rsa' | 'ec' | 'ed25519';

export interface ClientCertificate {
  kind: KeyKind;
  /** the JWS algorithm of the key family (EdDSA for Ed25519) */
  alg: 'RS256' | 'ES256' | 'EdDSA';
  /** self-signed X.509 certificate, PEM */
  certFile: string;
  /** PKCS#8 private key, PEM */
  keyFile: string;
  /** the private key as a WebCrypto key that signs, as the JavaScript clients take it */
  privateKey: CryptoKey;
}

const NEW_KEY: Record<KeyKind, string[]> = {
  rsa: ['-newkey', 'rsa:2048'],
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ed25519: ['-newkey', 'ed25519'],
};
const ALG: Record<KeyKind, ClientCertificate['alg']> = { rsa: 'RS256', ec: 'ES256', ed25519: 'EdDSA' };

/** A key pair and a self-signed certificate for it, written to `dir` as `<name>.crt` and `<name>.key`. */
export async function clientCertificate(dir: string, name: string, kind: KeyKind): Promise<ClientCertificate> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', ...NEW_KEY[kind], '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`], { stdio: 'ignore' });
  const privateKey = await importPKCS8(readFileSync(keyFile, 'utf8'), ALG[kind]);
  return { kind, alg: ALG[kind], certFile, keyFile, privateKey };
}

/** Runs an admin command and throws its one-line reason when it fails. */
export async function admin(instance: Instance, ...argv: string[]): Promise<void> {
  const run = await instance.admin(...argv);
  if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr.trim()}`);
}

/** The decoded form bodies of the requests a fetch passed on, for looking at what a client sent. */
export function recordingFetch(): { fetch: typeof fetch; bodies: URLSearchParams[] } {
  const bodies: URLSearchParams[] = [];
  const recording: typeof fetch = (input, init) => {
    const body = init?.body;
    if (body instanceof URLSearchParams) bodies.push(new URLSearchParams(body));
    else if (typeof body === 'string') bodies.push(new URLSearchParams(body));
    return fetch(input, init);
  };
  return { fetch: recording, bodies };
}

/** A reachable server with `billing` (client secret) and `partner`, one application holding an RSA, an EC and an Ed25519 certificate. */
export interface PartnerFixture {
  tm: ReachableInstance;
  /** billing's client secret */
  secret: string;
  certificates: Map<KeyKind, ClientCertificate>;
}

export async function startPartnerFixture(): Promise<PartnerFixture> {
  const tm = await startReachable();
  const secret = await createApp(tm, 'billing');
  await admin(tm, 'app', 'create', 'partner', '--scopes', 'read write', '--default-scopes', 'read', '--audiences', 'https://api.example');
  const certificates = new Map<KeyKind, ClientCertificate>();
  for (const kind of ['rsa', 'ec', 'ed25519'] as const) {
    const certificate = await clientCertificate(tm.dir, `partner-${kind}`, kind);
    certificates.set(kind, certificate);
    await admin(tm, 'cert', 'add', `partner-${kind}`, '--file', certificate.certFile, '--app', 'partner');
  }
  return { tm, secret, certificates };
}
