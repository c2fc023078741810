import { clientCredentials, passwordAlias } from './client-credentials.ts';
import { jwtBearer } from './jwt-bearer.ts';
import { tokenExchange } from './token-exchange.ts';
import type { Grant } from './types.ts';

export { requireGrantAllowed } from './allowed.ts';
export type { Grant, GrantDeps, GrantResult, GrantTrace, TokenResponse } from './types.ts';

export const GRANTS: ReadonlyMap<string, Grant> = new Map([clientCredentials, passwordAlias, jwtBearer, tokenExchange].map((g) => [g.grantType, g]));
