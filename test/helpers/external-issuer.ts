// A stand-in for an external issuer (a Kubernetes cluster, a CI provider): real keys, a real JWKS
// and discovery server on a loopback port that counts its hits, key rotation, signed JWTs.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CompactSign, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { TEST_ISSUER } from './instance.ts';

export interface IssuerKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function issuerKey(alg = 'RS256', kid: string = randomUUID()): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export class ExternalIssuer {
  keys: IssuerKey[] = [];
  /** requests per path */
  readonly hits = new Map<string, number>();
  /** replaces the JWKS handler, e.g. to hang or to answer 50 MB */
  jwksHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  cacheControl = 'public, max-age=3600';
  private server: Server | undefined;
  url = '';

  /** `issuer` defaults to the server's own URL, as in OpenID discovery */
  constructor(private issuerOverride?: string) {}

  get issuer(): string {
    return this.issuerOverride ?? this.url;
  }

  static async start(options: { alg?: string; issuer?: string } = {}): Promise<ExternalIssuer> {
    const external = new ExternalIssuer(options.issuer);
    external.keys.push(await issuerKey(options.alg ?? 'RS256'));
    await external.listen();
    return external;
  }

  get jwksUrl(): string {
    return `${this.url}/jwks.json`;
  }

  get discoveryUrl(): string {
    return `${this.url}/.well-known/openid-configuration`;
  }

  hitsOf(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** Writes the JWKS to a file, for document sources. */
  jwksFile(dir: string, name = `jwks-${randomUUID()}.json`): string {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(this.jwks()));
    return file;
  }

  /** A new key signs from now on; the old one is no longer published. */
  async rotate(alg = this.keys[0]?.alg ?? 'RS256'): Promise<IssuerKey> {
    const key = await issuerKey(alg);
    this.keys = [key];
    return key;
  }

  /** A JWT with sane defaults: iss, aud = the tokenmint test issuer, iat, exp in 5 minutes, jti. */
  async sign(claims: JWTPayload = {}, options: { key?: IssuerKey; header?: Record<string, unknown> } = {}): Promise<string> {
    const key = options.key ?? this.keys[0]!;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, sub: 'system:serviceaccount:ci:builder', aud: TEST_ISSUER, iat: now, exp: now + 300, jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
      .sign(key.privateKey);
  }

  /** Like sign(), with the payload given as JSON text: for shapes a JWT library refuses to build. */
  async signText(claimsJson: string, options: { key?: IssuerKey } = {}): Promise<string> {
    const key = options.key ?? this.keys[0]!;
    const now = Math.floor(Date.now() / 1000);
    const defaults = JSON.stringify({ iss: this.issuer, sub: 'system:serviceaccount:ci:builder', aud: TEST_ISSUER, iat: now, exp: now + 300, jti: randomUUID() });
    const payload = claimsJson === '{}' ? defaults : `${defaults.slice(0, -1)},${claimsJson.slice(1)}`;
    return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  private listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      this.hits.set(path, this.hitsOf(path) + 1);
      if (path === '/jwks.json' && this.jwksHandler) return this.jwksHandler(req, res);
      if (path === '/jwks.json') return this.json(res, this.jwks());
      if (path === '/.well-known/openid-configuration') return this.json(res, { issuer: this.issuer, jwks_uri: this.jwksUrl });
      res.writeHead(404).end();
    });
    return new Promise((resolve) => {
      this.server!.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
        resolve();
      });
    });
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': this.cacheControl }).end(JSON.stringify(body));
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
