// Fetches JWKS and discovery documents from URLs an operator configured, without letting those
// URLs reach into private networks, hang the issuer or exhaust its memory.
import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface SafeFetchOptions {
  /** JWKS_ALLOW_PRIVATE_NETWORKS: when false, loopback/private/link-local/etc. destinations are refused */
  allowPrivateNetworks: boolean;
  /** whole fetch budget: DNS + connect + TLS + reading the body */
  timeoutMs: number;
  maxBytes: number;
}

/** A refused fetch: the message is one line, safe to show an operator, and never quotes the response body. */
export class FetchRefused extends Error {}

export interface FetchedJson {
  body: unknown;
  /** Cache-Control max-age in seconds; undefined when absent or when no-store/no-cache is present */
  maxAgeSeconds: number | undefined;
}

interface Target {
  url: URL;
  /** the hostname without IPv6 brackets */
  host: string;
}

const REQUEST_HEADERS = {
  accept: 'application/jwk-set+json, application/json',
  'accept-encoding': 'identity',
  'user-agent': 'tokenmint',
};

export async function fetchJson(url: string, options: SafeFetchOptions): Promise<FetchedJson> {
  const target = checkUrl(url, options.allowPrivateNetworks);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  const timedOut = `timed out after ${options.timeoutMs} ms`;
  try {
    const addresses = await untilAborted(resolveVetted(target, options.allowPrivateNetworks), deadline.signal, timedOut);
    const { headers, body } = await get(target, addresses, options.maxBytes, deadline.signal, timedOut);
    return { body: parseJson(body), maxAgeSeconds: maxAge(headers['cache-control']) };
  } finally {
    clearTimeout(timer);
  }
}

function checkUrl(text: string, allowPrivateNetworks: boolean): Target {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FetchRefused('not a valid URL');
  }
  if (url.username !== '' || url.password !== '') throw new FetchRefused('credentials in the URL are refused');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FetchRefused(`scheme ${printable(url.protocol)} refused; use https`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new FetchRefused('the URL has no host');
  if (url.protocol === 'http:' && !(allowPrivateNetworks && isLoopbackName(host))) {
    throw new FetchRefused('http is allowed only to a loopback host with JWKS_ALLOW_PRIVATE_NETWORKS; use https');
  }
  return { url, host };
}

function isLoopbackName(host: string): boolean {
  return host === 'localhost' || (isIP(host) !== 0 && rangeOf(host) === 'loopback');
}

/** ipaddr.js's range name; `process` unwraps IPv4-mapped IPv6 so ::ffff:10.0.0.1 counts as private. */
function rangeOf(address: string): string {
  try {
    const parsed = ipaddr.process(address);
    const range = parsed.range();
    // deprecated IPv4-compatible IPv6 (::a.b.c.d, e.g. [::127.0.0.1]) may still reach IPv4 hosts
    if (range === 'unicast' && parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)) return 'ipv4Compatible';
    return range;
  } catch {
    return 'unparseable';
  }
}

/** Every address the host resolves to must be acceptable, or the fetch is refused. */
async function resolveVetted(target: Target, allowPrivateNetworks: boolean): Promise<LookupAddress[]> {
  let addresses: LookupAddress[];
  try {
    addresses = await lookup(target.host, { all: true });
  } catch {
    throw new FetchRefused(`cannot resolve host ${printable(target.host)}`);
  }
  if (addresses.length === 0) throw new FetchRefused(`cannot resolve host ${printable(target.host)}`);
  for (const { address } of addresses) {
    const range = rangeOf(address);
    if (target.url.protocol === 'http:' && range !== 'loopback') throw new FetchRefused(`http is allowed only to loopback, and ${printable(target.host)} resolves to ${address}`);
    if (!allowPrivateNetworks && range !== 'unicast') {
      throw new FetchRefused(`${printable(target.host)} resolves to ${address}, a ${range} address (set JWKS_ALLOW_PRIVATE_NETWORKS to allow)`);
    }
  }
  return addresses;
}

/**
 * A socket `lookup` that answers only with addresses already vetted, whatever name it is asked
 * for: the connection goes where the check looked, so DNS cannot rebind in between.
 */
export function pinnedLookup(vetted: LookupAddress[]): LookupFunction {
  return (_hostname: string, options: LookupOptions, callback) => {
    const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const matching = vetted.filter((a) => family === 0 || a.family === family);
    const first = matching[0];
    if (first === undefined) {
      callback(Object.assign(new Error('no vetted address of the requested family'), { code: 'ENOTFOUND' }), '');
    } else if (options.all) {
      callback(null, matching.map((a) => ({ ...a })));
    } else {
      callback(null, first.address, first.family);
    }
  };
}

function get(target: Target, addresses: LookupAddress[], maxBytes: number, deadline: AbortSignal, timedOut: string): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    if (deadline.aborted) return reject(new FetchRefused(timedOut));
    const { url, host } = target;
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
      protocol: url.protocol,
      hostname: host,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: REQUEST_HEADERS,
      lookup: pinnedLookup(addresses),
      // SNI carries a name, never an IP literal (RFC 6066); certificate checks stay on
      servername: isIP(host) === 0 ? host : undefined,
      rejectUnauthorized: true,
      // a fresh connection per fetch: never a pooled socket to some other, unvetted address
      agent: false,
    });
    let settled = false;
    const fail = (message: string) => {
      if (!settled) reject(new FetchRefused(message));
      settled = true;
      deadline.removeEventListener('abort', onDeadline);
      request.destroy();
    };
    const onDeadline = () => fail(timedOut);
    deadline.addEventListener('abort', onDeadline, { once: true });

    request.on('error', (error) => fail(`connection failed: ${errorCode(error)}`));
    request.on('response', (response: IncomingMessage) => {
      response.on('error', (error) => fail(`connection failed: ${errorCode(error)}`));
      const refusal = refusalOf(response, maxBytes);
      if (refusal !== undefined) return fail(refusal);
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return fail(`response body larger than ${maxBytes} bytes`);
        chunks.push(chunk);
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        deadline.removeEventListener('abort', onDeadline);
        resolve({ headers: response.headers, body: Buffer.concat(chunks) });
      });
    });
    request.end();
  });
}

/** Why a response is refused from its status line and headers alone, or undefined. */
function refusalOf(response: IncomingMessage, maxBytes: number): string | undefined {
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400) return `redirects are not followed (status ${status})`;
  if (status !== 200) return `unexpected status ${status}`;
  const encoding = response.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return `content-encoding ${printable(encoding)} refused`;
  const length = response.headers['content-length'];
  if (length !== undefined && Number(length) > maxBytes) return `response body of ${printable(length)} bytes is larger than ${maxBytes} bytes`;
  return undefined;
}

function parseJson(body: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new FetchRefused('response is not UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the body, so it is not passed on
    throw new FetchRefused('response is not valid JSON');
  }
}

/** RFC 9111 §5.2: the first max-age, unless the response must not be cached at all. */
function maxAge(cacheControl: string | undefined): number | undefined {
  if (cacheControl === undefined) return undefined;
  const directives = cacheControl.split(',').map((d) => d.trim().toLowerCase());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache' || d.startsWith('no-cache='))) return undefined;
  for (const directive of directives) {
    const match = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive);
    // §1.2.2: a delta-seconds over 2^31 is taken as 2^31
    if (match) return Math.min(Number(match[1]), 2 ** 31);
  }
  return undefined;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new FetchRefused(message));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(code) ? code : 'error';
}

/** Remote or configured text for a one-line message: printable ASCII, bounded. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}
