import { clientCredentials, passwordAlias } from './client-credentials.ts';
import type { Grant } from './types.ts';

export type { Grant, GrantDeps, GrantResult, TokenResponse } from './types.ts';

export const GRANTS: ReadonlyMap<string, Grant> = new Map([clientCredentials, passwordAlias].map((g) => [g.grantType, g]));

/** Grant types an application may be given (the password alias rides on client_credentials). */
export const CONFIGURABLE_GRANT_TYPES = ['client_credentials'] as const;
