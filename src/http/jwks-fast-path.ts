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
  return (req, res) => {
    if (req.method !== 'GET' || !paths.has(req.url ?? '')) return false;
    const started = performance.now();
    const store = keystore();
    if (bodyOf !== store) {
      body = Buffer.from(store.jwksBody);
      bodyOf = store;
    }
    const id = acceptedRequestId(req.headers['x-request-id']);
    const notModified = req.headers['if-none-match'] === store.jwksEtag;
    res.setHeader('X-Request-Id', id);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', cacheControl);
    res.setHeader('ETag', store.jwksEtag);
    if (notModified) {
      res.statusCode = 304;
      res.end();
    } else {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', body.length);
      res.end(body);
    }
    if (log.isLevelEnabled('info')) {
      log.info({ request_id: id, method: 'GET', path: req.url, status: res.statusCode, duration_ms: Math.round((performance.now() - started) * 10) / 10 }, 'request');
    }
    return true;
  };
}
