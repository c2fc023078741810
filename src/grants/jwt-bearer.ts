// RFC 7523 §2.1: a JWT as an authorization grant.
import { invalidRequest } from '../errors.ts';
import { exchangeJwt } from './exchange.ts';
import type { Grant } from './types.ts';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export const jwtBearer: Grant = {
  grantType: JWT_BEARER_GRANT,
  requires: JWT_BEARER_GRANT,
  clientAuthentication: 'optional',
  async handle(request, deps) {
    const assertion = request.params.get('assertion');
    if (assertion === undefined) throw invalidRequest('assertion is required');
    return exchangeJwt(jwtBearer, request, deps, assertion, { what: 'assertion' });
  },
};
