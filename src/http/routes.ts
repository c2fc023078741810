import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import type { Middleware } from 'koa';
import { invalidRequest } from '../errors.ts';
import type { Deps } from '../deps.ts';
import { liveness, readiness } from './health.ts';
import { auditTokenRequests } from './token-audit.ts';
import { MAX_FORM_BYTES, noStore, requireForm, tokenEndpoint } from './token-endpoint.ts';
import { jwks, serverMetadata } from './well-known.ts';

const formBody = bodyParser({ enableTypes: ['form'], formLimit: `${MAX_FORM_BYTES}b`, strict: true });

const postOnly: Middleware = (ctx) => {
  ctx.set('Allow', 'POST');
  throw invalidRequest('use POST', 405);
};

export function routes(deps: Deps): Router {
  const router = new Router();
  router.post('/token', noStore, auditTokenRequests(deps.auditGuard), requireForm, formBody, tokenEndpoint(deps));
  router.all('/token', noStore, postOnly);
  router.get('/.well-known/jwks.json', jwks(deps.keystore));
  const metadata = serverMetadata(deps.config, deps.state);
  router.get('/.well-known/openid-configuration', metadata);
  router.get('/.well-known/oauth-authorization-server', metadata);
  router.get('/healthz', liveness);
  router.get('/readyz', readiness(deps));
  return router;
}
