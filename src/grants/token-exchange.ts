// RFC 8693 token exchange: a JWT subject token for an access token of this issuer (impersonation
// semantics; delegation with an actor token is not offered).
import { invalidRequest } from '../errors.ts';
import { exchangeJwt } from './exchange.ts';
import type { Grant } from './types.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:';
export const SUBJECT_TOKEN_TYPES = [`${TOKEN_TYPE}jwt`, `${TOKEN_TYPE}id_token`, `${TOKEN_TYPE}access_token`];
/** What can be asked for: an access token, which is a JWT. */
const ISSUABLE_TOKEN_TYPES = [`${TOKEN_TYPE}access_token`, `${TOKEN_TYPE}jwt`];

export const tokenExchange: Grant = {
  grantType: TOKEN_EXCHANGE_GRANT,
  requires: TOKEN_EXCHANGE_GRANT,
  clientAuthentication: 'optional',
  async handle(request, deps) {
    const { params } = request;
    const subjectToken = params.get('subject_token');
    const subjectTokenType = params.get('subject_token_type');
    if (subjectToken === undefined || subjectTokenType === undefined) throw invalidRequest('subject_token and subject_token_type are required');
    if (!SUBJECT_TOKEN_TYPES.includes(subjectTokenType)) throw invalidRequest(`subject_token_type must be one of ${SUBJECT_TOKEN_TYPES.join(', ')}`);
    if (params.has('actor_token') || params.has('actor_token_type')) throw invalidRequest('actor tokens (delegation) are not supported');
    const requested = params.get('requested_token_type') ?? ISSUABLE_TOKEN_TYPES[0]!;
    if (!ISSUABLE_TOKEN_TYPES.includes(requested)) throw invalidRequest(`requested_token_type must be ${ISSUABLE_TOKEN_TYPES.join(' or ')}`);
    return exchangeJwt(tokenExchange, request, deps, subjectToken, {
      what: 'subject_token',
      acceptAccessTokens: subjectTokenType === `${TOKEN_TYPE}access_token`,
      issuedTokenType: requested,
    });
  },
};
