import { z } from 'zod';
import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '../config.ts';
import { CLIENT_AUTH_METHODS, type Application, type PolicyMode } from '../store/types.ts';
import { AdminError } from './errors.ts';
import { check, grantTypes, scopeToken } from './input.ts';

/** The settings of an application that `app create` sets and `app update` changes. */
export type ApplicationFields = Pick<Application, 'name' | 'grantTypes' | 'scopes' | 'defaultScopes' | 'audiences' | 'accessTokenTtl' | 'policyMode' | 'authMethods'>;

/** What the operator gave; an absent field keeps its current value. */
export interface ApplicationFieldInput {
  name?: string;
  grants?: string[];
  scopes?: string[];
  defaultScopes?: string[];
  audiences?: string[];
  /** null: the deployment's ACCESS_TOKEN_TTL */
  ttlSeconds?: number | null;
  policyMode?: string;
  /** null: whatever the application has credentials for */
  authMethods?: string[] | null;
}

/** A new application's settings before any option is applied. */
export const NEW_APPLICATION_FIELDS: Omit<ApplicationFields, 'name'> = {
  grantTypes: ['client_credentials'],
  scopes: [],
  defaultScopes: [],
  audiences: [],
  accessTokenTtl: null,
  policyMode: 'all',
  authMethods: null,
};

const audience = z.string().min(1).max(512).regex(/^[\x21-\x7e]+$/, 'must be printable without spaces');

/**
 * The given fields over the current ones, validated as a whole: the same rules for a new
 * application and a changed one (a default scope must stay among the scopes, every application
 * keeps an audience and a grant type).
 */
export function applicationFields(input: ApplicationFieldInput, current: ApplicationFields): ApplicationFields {
  const scopes = input.scopes === undefined ? current.scopes : check(z.array(scopeToken), input.scopes, 'scope');
  const defaultScopes = input.defaultScopes === undefined ? current.defaultScopes : check(z.array(scopeToken), input.defaultScopes, 'default scope');
  const missing = defaultScopes.find((s) => !scopes.includes(s));
  if (missing) throw new AdminError(`default scope ${JSON.stringify(missing)} is not among the application's scopes`);
  const audiences = input.audiences === undefined ? current.audiences : check(z.array(audience), input.audiences, 'audience');
  if (audiences.length === 0) throw new AdminError('give at least one --audiences: every access token names its audience, and the first is the default');
  const ttl = input.ttlSeconds === undefined ? current.accessTokenTtl : input.ttlSeconds === null ? null : check(z.number().int().min(30).max(MAX_ACCESS_TOKEN_TTL_SECONDS), input.ttlSeconds, 'ttl');
  const policyMode = input.policyMode === undefined ? current.policyMode : (check(z.enum(['all', 'any']), input.policyMode, 'policy mode') as PolicyMode);
  if (input.grants !== undefined && input.grants.length === 0) throw new AdminError('--grants must name at least one grant type');
  const authMethods = input.authMethods === undefined ? current.authMethods : input.authMethods === null ? null : [...new Set(check(z.array(z.enum(CLIENT_AUTH_METHODS)).min(1, 'name at least one method'), input.authMethods, 'auth method'))];
  return {
    name: input.name ?? current.name,
    grantTypes: input.grants === undefined ? current.grantTypes : grantTypes(input.grants),
    scopes: [...new Set(scopes)],
    defaultScopes: [...new Set(defaultScopes)],
    audiences: [...new Set(audiences)],
    accessTokenTtl: ttl,
    policyMode,
    authMethods,
  };
}

/** The fields whose value differs, with the old and the new value (for the audit log; never a secret). */
export function changedFields(before: ApplicationFields, after: ApplicationFields): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as (keyof ApplicationFields)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changes[SNAKE[key]] = { from: before[key], to: after[key] };
  }
  return changes;
}

const SNAKE: Record<keyof ApplicationFields, string> = {
  name: 'name',
  grantTypes: 'grant_types',
  scopes: 'scopes',
  defaultScopes: 'default_scopes',
  audiences: 'audiences',
  accessTokenTtl: 'access_token_ttl',
  policyMode: 'policy_mode',
  authMethods: 'auth_methods',
};
