import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fetchJson, FetchRefused, pinnedLookup, type SafeFetchOptions } from '../../src/trust/safe-fetch.ts';

const LOCAL: SafeFetchOptions = { allowPrivateNetworks: true, timeoutMs: 2000, maxBytes: 64 * 1024 };
const PUBLIC_ONLY: SafeFetchOptions = { ...LOCAL, allowPrivateNetworks: false };

interface Local {
  url: string;
  port: number;
  requests: IncomingHttpHeaders[];
  connections: () => number;
}

/** A real HTTP server on an ephemeral loopback port, closed when the test ends. */
async function serve(t: ExecutionContext, handler: RequestListener): Promise<Local> {
  const requests: IncomingHttpHeaders[] = [];
  let connections = 0;
  const server = createServer((request, response) => {
    requests.push(request.headers);
    handler(request, response);
  });
  server.on('connection', () => connections++);
  const port = await listen(t, server);
  return { url: `http://127.0.0.1:${port}`, port, requests, connections: () => connections };
}

async function listen(t: ExecutionContext, server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

/** A TCP listener that only counts connections: proof that a refused fetch never connected. */
async function countingListener(t: ExecutionContext): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections++;
    socket.destroy();
  });
  return { port: await listen(t, server), connections: () => connections };
}

async function refused(t: ExecutionContext, url: string, options: SafeFetchOptions, message: RegExp): Promise<string> {
  const error = await t.throwsAsync(fetchJson(url, options), { instanceOf: FetchRefused, message });
  return error!.message;
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestListener => (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
};

test('a JSON document is fetched with its max-age, and the request asks for unencoded JSON as tokenmint', async (t) => {
  const server = await serve(t, json({ keys: [] }, { 'cache-control': 'public, max-age=600' }));
  const fetched = await fetchJson(`${server.url}/jwks.json`, LOCAL);
  t.deepEqual(fetched, { body: { keys: [] }, maxAgeSeconds: 600 });
  const [headers] = server.requests;
  t.is(headers?.accept, 'application/jwk-set+json, application/json');
  t.is(headers?.['accept-encoding'], 'identity');
  t.is(headers?.['user-agent'], 'tokenmint');
  t.is(headers?.host, `127.0.0.1:${server.port}`);
});

test('max-age is read from Cache-Control unless the response must not be cached', async (t) => {
  const cases: [string | undefined, number | undefined][] = [
    [undefined, undefined],
    ['max-age=0', 0],
    ['Max-Age="120", must-revalidate', 120],
    ['s-maxage=50', undefined],
    ['max-age=600, no-store', undefined],
    ['no-cache, max-age=600', undefined],
    ['max-age=9999999999999', 2 ** 31],
    ['max-age=-5', undefined],
  ];
  for (const [cacheControl, expected] of cases) {
    const server = await serve(t, json({}, cacheControl === undefined ? {} : { 'cache-control': cacheControl }));
    t.is((await fetchJson(server.url, LOCAL)).maxAgeSeconds, expected, String(cacheControl));
  }
});

test('http to a loopback address is refused while private networks are not allowed, before connecting', async (t) => {
  const server = await serve(t, json({}));
  await refused(t, server.url, PUBLIC_ONLY, /http is allowed only to a loopback host/);
  await refused(t, `http://localhost:${server.port}/`, PUBLIC_ONLY, /http is allowed only to a loopback host/);
  t.is(server.connections(), 0);
});

test('http is allowed to loopback names and addresses only, even with private networks allowed', async (t) => {
  const server = await serve(t, json({ ok: true }));
  t.deepEqual((await fetchJson(`http://localhost:${server.port}/`, LOCAL)).body, { ok: true });
  // refused on the scheme alone: no DNS lookup, no connection, no network needed
  for (const url of ['http://example.com/jwks', 'http://10.0.0.1/jwks', 'http://169.254.169.254/latest/meta-data', 'http://localhost.example.com/']) {
    await refused(t, url, LOCAL, /http is allowed only to a loopback host/);
  }
});

test('https to loopback, private, link-local and unspecified addresses is refused without connecting', async (t) => {
  const listener = await countingListener(t);
  const urls = [
    `https://127.0.0.1:${listener.port}/`,
    `https://localhost:${listener.port}/`,
    `https://[::1]:${listener.port}/`,
    `https://[::ffff:127.0.0.1]:${listener.port}/`,
    'https://127.1.2.3/',
    'https://10.0.0.1/',
    'https://172.16.5.4/',
    'https://192.168.1.1/',
    'https://100.64.0.1/',
    'https://169.254.169.254/latest/meta-data/',
    'https://0.0.0.0/',
    'https://[::]/',
    'https://[fe80::1]/',
    'https://[fd00::1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[64:ff9b::a9fe:a9fe]/',
    'https://224.0.0.1/',
    // IPv4-compatible IPv6, as the URL parser writes [::127.0.0.1]
    `https://[::127.0.0.1]:${listener.port}/`,
    'https://[::a00:1]/',
  ];
  for (const url of urls) {
    const message = await refused(t, url, PUBLIC_ONLY, /resolves to .*, an? \w+ address \(set JWKS_ALLOW_PRIVATE_NETWORKS to allow\)/);
    t.false(message.includes('\n'));
  }
  t.is(listener.connections(), 0);
});

test('other schemes, credentials in the URL and malformed URLs are refused', async (t) => {
  const server = await serve(t, json({}));
  await refused(t, `http://user:secret@127.0.0.1:${server.port}/`, LOCAL, /credentials in the URL are refused/);
  await refused(t, `http://user@127.0.0.1:${server.port}/`, LOCAL, /credentials in the URL are refused/);
  await refused(t, 'https://user:secret@issuer.example/jwks', PUBLIC_ONLY, /credentials in the URL are refused/);
  await refused(t, 'ftp://127.0.0.1/jwks', LOCAL, /scheme ftp: refused/);
  await refused(t, 'file:///etc/passwd', LOCAL, /scheme file: refused/);
  await refused(t, 'not a url', LOCAL, /not a valid URL/);
  t.is(server.connections(), 0);
});

test('a redirect is refused and its target is never asked', async (t) => {
  const target = await serve(t, json({ keys: [] }));
  const redirecting = await serve(t, (_request, response) => {
    response.writeHead(302, { location: `${target.url}/jwks.json` });
    response.end();
  });
  await refused(t, redirecting.url, LOCAL, /^redirects are not followed \(status 302\)$/);
  t.is(redirecting.requests.length, 1);
  t.is(target.connections(), 0);
});

test('any status but 200 is refused with the status', async (t) => {
  for (const status of [404, 500, 204, 201]) {
    const server = await serve(t, (_request, response) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(status === 204 ? undefined : '{"keys":[]}');
    });
    await refused(t, server.url, LOCAL, new RegExp(`^unexpected status ${status}$`));
  }
});

test('a server that accepts and never answers is given up on after the timeout', async (t) => {
  const server = await serve(t, () => {});
  await refused(t, server.url, { ...LOCAL, timeoutMs: 300 }, /^timed out after 300 ms$/);
});

test('a server that trickles its body is given up on after the timeout', async (t) => {
  const server = await serve(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('{"keys":[');
    const timer = setInterval(() => response.write(' '), 20);
    response.on('close', () => clearInterval(timer));
  });
  await refused(t, server.url, { ...LOCAL, timeoutMs: 300 }, /^timed out after 300 ms$/);
});

test('a 50 MB body is cut off soon after the size cap instead of being read', async (t) => {
  const total = 50 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let written = 0;
  let closed!: () => void;
  const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
  const server = await serve(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.on('close', closed);
    const pump = () => {
      while (written < total && !response.destroyed) {
        written += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      response.end();
    };
    pump();
  });
  await refused(t, server.url, { ...LOCAL, timeoutMs: 10_000 }, /^response body larger than 65536 bytes$/);
  await serverSawClose;
  t.true(written < total, `the server wrote ${written} bytes`);
});

test('a Content-Length over the cap is refused before the body is read', async (t) => {
  const server = await serve(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    response.end(`"${'a'.repeat(998)}"`);
  });
  await refused(t, server.url, { ...LOCAL, maxBytes: 100 }, /^response body of 1000 bytes is larger than 100 bytes$/);
});

test('a compressed body is refused', async (t) => {
  const server = await serve(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    response.end(gzipSync('{"keys":[]}'));
  });
  await refused(t, server.url, LOCAL, /^content-encoding gzip refused$/);
});

test('a body that is not JSON or not UTF-8 is refused without quoting it', async (t) => {
  const html = await serve(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<html>internal-secret-page</html>');
  });
  const message = await refused(t, html.url, LOCAL, /^response is not valid JSON$/);
  t.false(message.includes('internal-secret'));
  const latin1 = await serve(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(Buffer.from([0x22, 0xe9, 0x22]));
  });
  await refused(t, latin1.url, LOCAL, /^response is not UTF-8$/);
});

test('connection and DNS failures are refusals, never other errors', async (t) => {
  const closed = createTcpServer();
  const port = await listen(t, closed);
  await new Promise((resolve) => closed.close(resolve));
  await refused(t, `http://127.0.0.1:${port}/`, LOCAL, /^connection failed: ECONNREFUSED$/);
  const dropping = await countingListener(t);
  await refused(t, `http://127.0.0.1:${dropping.port}/`, LOCAL, /^connection failed: ECONNRESET$/);
  // .invalid never resolves (RFC 6761); a resolver that hangs instead still ends in a refusal
  await refused(t, 'https://jwks.invalid/', PUBLIC_ONLY, /^(cannot resolve host jwks\.invalid|timed out after 2000 ms)$/);
});

test('TLS certificates are verified, with the URL host name sent as SNI', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenmint-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const serverNames: string[] = [];
  let requests = 0;
  const server = createTlsServer({
    key: readFileSync(join(dir, 'k.pem')),
    cert: readFileSync(join(dir, 'c.pem')),
    SNICallback: (name, done) => {
      serverNames.push(name);
      done(null);
    },
  }, json({ keys: [] }));
  server.on('request', () => requests++);
  const port = await listen(t, server);
  await refused(t, `https://localhost:${port}/jwks`, LOCAL, /^connection failed: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)$/);
  t.deepEqual(serverNames, ['localhost']);
  t.is(requests, 0);
});

test('the pinned lookup answers only with the vetted addresses, whatever name it is asked for', (t) => {
  const vetted: LookupAddress[] = [{ address: '203.0.113.10', family: 4 }, { address: '2001:db8::10', family: 6 }];
  const ask = (addresses: LookupAddress[], options: object) => {
    let answer: unknown[] = [];
    pinnedLookup(addresses)('rebound.example', options, (...args) => (answer = args));
    return answer;
  };
  t.deepEqual(ask(vetted, {}), [null, '203.0.113.10', 4]);
  t.deepEqual(ask(vetted, { all: true }), [null, vetted]);
  t.deepEqual(ask(vetted, { family: 6 }), [null, '2001:db8::10', 6]);
  t.deepEqual(ask(vetted, { family: 4, all: true }), [null, [vetted[0]]]);
  const [error] = ask([vetted[0]!], { family: 6 }) as [NodeJS.ErrnoException];
  t.is(error.code, 'ENOTFOUND');
});
