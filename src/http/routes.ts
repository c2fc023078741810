import type { Middleware } from 'koa';
import { invalidRequest } from '../errors.ts';
import type { Deps } from '../deps.ts';
import { formBody } from './form-body.ts';
import { liveness, readiness } from './health.ts';
import { metricsEndpoint } from './metrics-endpoint.ts';
import { RouteTable } from './route-table.ts';
import { measureTokenRequests } from './token-metrics.ts';
import { auditTokenRequests } from './token-audit.ts';
import { introspectionEndpoint } from './introspection-endpoint.ts';
import { revocationEndpoint } from './revocation-endpoint.ts';
import { MAX_FORM_BYTES, noStore, requireForm, tokenEndpoint } from './token-endpoint.ts';
import { auditTokenManagement } from './token-management-audit.ts';
import { issuerPath, jwks, serverMetadata } from './well-known.ts';

const readForm = formBody(MAX_FORM_BYTES);

const postOnly: Middleware = (ctx) => {
  ctx.set('Allow', 'POST');
  throw invalidRequest('use POST', 405);
};

export function routes(deps: Deps): RouteTable {
  const router = new RouteTable();
  // an issuer with a path (https://host/tm) is served both behind a proxy that strips the path and one that does not
  const path = issuerPath(deps.config);
  const at = (route: string) => (path ? [route, `${path}${route}`] : route);
  const measured = deps.config.metrics ? [measureTokenRequests] : [];
  router.post(at('/token'), ...measured, noStore, auditTokenRequests(deps.auditGuard), requireForm, readForm, tokenEndpoint(deps));
  router.all(at('/token'), noStore, postOnly);
  router.post(at('/introspect'), noStore, auditTokenManagement(deps.auditGuard, 'token.introspected'), requireForm, readForm, introspectionEndpoint(deps));
  router.all(at('/introspect'), noStore, postOnly);
  router.post(at('/revoke'), noStore, auditTokenManagement(deps.auditGuard, 'token.revoked'), requireForm, readForm, revocationEndpoint(deps));
  router.all(at('/revoke'), noStore, postOnly);
  router.get(at('/.well-known/jwks.json'), jwks(deps.config, deps.keystore));
  const metadata = serverMetadata(deps.config, deps.state);
  router.get(at('/.well-known/openid-configuration'), metadata);
  router.get(at('/.well-known/oauth-authorization-server'), metadata);
  // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path
  if (path) router.get([`/.well-known/oauth-authorization-server${path}`, `/.well-known/openid-configuration${path}`], metadata);
  router.get('/healthz', liveness);
  router.get('/readyz', readiness(deps));
  // with METRICS_PORT the primary serves them there, and the public port does not
  if (deps.config.metrics && deps.config.metricsPort === undefined) router.get('/metrics', metricsEndpoint(deps.log));
  return router;
}
