// The settings of a policy, defined once: each one's `policy add` / `policy update` flag, its
// seed-file key and schema, and what export writes.
import { z } from 'zod';
import { POLICY_KINDS } from '../policies/kinds.ts';
import type { PolicyRecord } from '../store/types.ts';

export interface PolicySetting {
  key: 'expression' | 'kind' | 'description';
  arg: string;
  /** help on add (and whether add requires it), and on update (undefined: add only) */
  help: { add: string; update?: string };
  required?: boolean;
  cliDefault?: string;
  seed: z.ZodType;
  toSeed(policy: PolicyRecord): unknown;
}

export const POLICY_SETTINGS: PolicySetting[] = [
  {
    key: 'expression',
    arg: '<cel>',
    help: { add: 'the CEL expression', update: 'a new expression' },
    required: true,
    seed: z.union([z.string().min(1), z.object({ file: z.string().min(1) }).strict()]).describe('CEL, inline or {file: path relative to the seed file}'),
    toSeed: (policy) => policy.expression,
  },
  {
    key: 'kind',
    arg: '<kind>',
    help: { add: 'allow (returns a bool) or claims (returns a map for the token)' },
    cliDefault: 'allow',
    seed: z.enum(POLICY_KINDS).default('allow'),
    toSeed: (policy) => policy.kind,
  },
  {
    key: 'description',
    arg: '<text>',
    help: { add: 'what it is for', update: 'a new description' },
    seed: z.string().default(''),
    toSeed: (policy) => policy.description,
  },
];
