// GET of the JWKS is what every API verifying our tokens polls, and the one answer that never
// depends on who asks: it is answered before the request reaches Koa, from the bytes the keystore
// serialised once, with the same headers, log line and conditional-request rule as the Koa route
// (which still answers HEAD, a query string, or anything unusual).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import type { Keystore } from '../keys/keystore.ts';
import type { Logger } from '../logger.ts';
import { acceptedRequestId } from './request-log.ts';
import { issuerPath, jwksMaxAgeSeconds } from './well-known.ts';

/** Answers the request and returns true when it is a plain GET of the JWKS; false leaves it to Koa. */
export function jwksFastPath(config: Config, keystore: () => Keystore, log: Logger): (req: IncomingMessage, res: ServerResponse) => boolean {
  const paths = new Set(['/.well-known/jwks.json', `${issuerPath(config)}/.well-known/jwks.json`]);
  const cacheControl = `public, max-age=${jwksMaxAgeSeconds(config)}`;
  let bodyOf: Keystore | null = null;
  let body = Buffer.alloc(0);
  let headers: Record<string, string | number> = {};
  let notModifiedHeaders: Record<string, string> = {};
  return (req, res) => {
    if (req.method !== 'GET' || !paths.has(req.url ?? '')) return false;
    const logging = log.isLevelEnabled('info');
    const started = logging ? performance.now() : 0;
    const store = keystore();
    if (bodyOf !== store) {
      body = Buffer.from(store.jwksBody);
      notModifiedHeaders = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': cacheControl, ETag: store.jwksEtag };
      headers = { ...notModifiedHeaders, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length };
      bodyOf = store;
    }
    const id = acceptedRequestId(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', id);
    if (req.headers['if-none-match'] === store.jwksEtag) {
      res.writeHead(304, notModifiedHeaders);
      res.end();
    } else {
      res.writeHead(200, headers);
      res.end(body);
    }
    if (logging) {
      log.info({ request_id: id, method: 'GET', path: req.url, status: res.statusCode, duration_ms: Math.round((performance.now() - started) * 10) / 10 }, 'request');
    }
    return true;
  };
}
