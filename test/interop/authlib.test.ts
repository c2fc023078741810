// Authlib, the OAuth library of Python, against the real server: scripts/interop-authlib.py run with
// the system Python for each kind of check. Skipped, saying why, where that Python lacks Authlib.
import test, { type ExecutionContext } from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/process.ts';
import { admin, clientCertificate, startReachable, type ReachableInstance } from '../helpers/interop.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(ROOT, 'scripts/interop-authlib.py');
const PARTNER_ISSUER = 'https://acme.example';

function missingAuthlib(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import authlib, requests, cryptography'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) return `${PYTHON} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import Authlib: ${probe.stderr.trim().split('\n').at(-1)}`;
  return undefined;
}

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(args: string[]): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [SCRIPT, ...args],
      // Authlib's switch for the http:// issuer of a test server
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, AUTHLIB_INSECURE_TRANSPORT: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** The script passed and ran `checks` checks (none skipped). */
async function passes(t: ExecutionContext, args: string[], checks: number) {
  const run = await runScript(args);
  const report = [run.stdout.trim(), run.stderr.trim()].filter(Boolean).join('\n');
  if (run.code === 0) t.log(report);
  t.is(run.code, 0, report);
  t.is(run.stdout.split('\n').filter((line) => line.startsWith('ok ')).length, checks, report);
  t.false(/^skip /m.test(run.stdout), run.stdout);
}

const missing = missingAuthlib();
if (missing) {
  test('Authlib interoperability', (t) => {
    t.log(`skipped: ${missing} (Debian: apt-get install python3-authlib python3-requests)`);
    t.pass();
  });
} else {
  let strict: ReachableInstance;
  let compat: ReachableInstance;
  let keys: string[];
  let compatKeys: string[];
  let partnerKey: string;

  /** An application with three certificates (RSA, EC P-256, Ed25519); the private keys' files. */
  async function partnerWithThreeKeys(instance: ReachableInstance): Promise<string[]> {
    await admin(instance, 'app', 'create', 'partner', '--scopes', 'read write', '--default-scopes', 'read', '--audiences', 'https://api.example');
    const files: string[] = [];
    for (const kind of ['rsa', 'ec', 'ed25519'] as const) {
      const certificate = await clientCertificate(instance.dir, `partner-${kind}`, kind);
      await admin(instance, 'cert', 'add', `partner-${kind}`, '--file', certificate.certFile, '--app', 'partner');
      files.push(certificate.keyFile);
    }
    return files;
  }

  test.before(async () => {
    [strict, compat] = await Promise.all([startReachable(), startReachable({ CLIENT_ASSERTION_AUDIENCE: 'compat' })]);
    keys = await partnerWithThreeKeys(strict);
    compatKeys = await partnerWithThreeKeys(compat);
    // a partner issuer whose key tokenmint trusts through a JWKS document, for the jwt-bearer grant;
    // bound to one application, so the assertion needs no client_id (as AssertionSession sends none)
    const acme = await clientCertificate(strict.dir, 'acme', 'ec');
    partnerKey = acme.keyFile;
    const jwk = new X509Certificate(readFileSync(acme.certFile)).publicKey.export({ format: 'jwk' });
    const jwksFile = join(strict.dir, 'acme-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...jwk, kid: 'acme-1', alg: 'ES256', use: 'sig' }] }));
    await admin(strict, 'app', 'create', 'robots', '--grants', 'jwt-bearer', '--scopes', 'deploy', '--default-scopes', 'deploy', '--audiences', 'https://api.example');
    await admin(strict, 'jwks', 'add', 'acme', '--file', jwksFile, '--issuer', PARTNER_ISSUER, '--app', 'robots', '--subject-prefix', 'acme:');
  });
  test.after.always(async () => {
    await strict?.close();
    await compat?.close();
  });

  const keyArgs = (files: string[]) => files.flatMap((file) => ['--key', file]);

  test('Authlib: AuthorizationServerMetadata(...).validate() accepts the RFC 8414 document', (t) =>
    passes(t, ['--issuer', strict.issuer, '--only', 'metadata'], 1));

  test('Authlib: OAuth2Session with PrivateKeyJWT (aud = issuer, no client_id sent) for RSA, EC and Ed25519 keys of one application; its defaults (aud = token endpoint) are refused in strict mode', (t) =>
    passes(t, ['--issuer', strict.issuer, '--client-id', 'partner', ...keyArgs(keys), '--scope', 'read', '--audience', 'https://api.example', '--only', 'private_key_jwt,private_key_jwt-defaults'], 6));

  test('Authlib: OAuth2Session with PrivateKeyJWT and its defaults (aud = token endpoint) with CLIENT_ASSERTION_AUDIENCE=compat', (t) =>
    passes(t, ['--issuer', compat.issuer, '--client-id', 'partner', ...keyArgs(compatKeys), '--assertion-audience', 'compat', '--only', 'private_key_jwt,private_key_jwt-defaults'], 6));

  test('Authlib: introspect_token and revoke_token with PrivateKeyJWT at the discovered endpoints: active, revoked, then inactive', (t) =>
    passes(t, ['--issuer', strict.issuer, '--client-id', 'partner', '--key', keys[1]!, '--only', 'introspection'], 1));

  test('Authlib: AssertionSession (jwt-bearer grant) with an assertion signed by a trusted partner key', (t) =>
    passes(t, ['--issuer', strict.issuer, '--assertion-issuer', PARTNER_ISSUER, '--assertion-subject', 'robot-7', '--assertion-key', partnerKey, '--scope', 'deploy', '--audience', 'https://api.example', '--only', 'jwt-bearer'], 1));

  test('Authlib: an issuer with a path: metadata at the path-inserted URL (RFC 8414 §3.1), private_key_jwt under the path', async (t) => {
    const prefixed = await startReachable({}, '/tm');
    try {
      await admin(prefixed, 'app', 'create', 'partner', '--audiences', 'https://api.example');
      const certificate = await clientCertificate(prefixed.dir, 'partner-ec', 'ec');
      await admin(prefixed, 'cert', 'add', 'partner-ec', '--file', certificate.certFile, '--app', 'partner');
      await passes(t, ['--issuer', prefixed.issuer, '--client-id', 'partner', '--key', certificate.keyFile, '--audience', 'https://api.example', '--only', 'metadata,private_key_jwt'], 2);
    } finally {
      await prefixed.close();
    }
  });
}
