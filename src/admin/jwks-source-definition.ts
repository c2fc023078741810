// The settings of a JWKS source, defined once: each one's `jwks add` flag, its seed-file key and
// schema, how CLI text becomes its value, and what export writes. Where the keys come from (--url,
// --discovery, --file; url, discovery, file, jwks) is not a setting: a change of it replaces the source.
import { z } from 'zod';
import type { JwksSource } from '../store/types.ts';
import { wholeNumber } from './cli-options.ts';
import { splitList } from './input.ts';
import { inputFromSeed } from './setting-definition.ts';
import type { NewSourceInput } from './jwks-sources.ts';

type SettingInput = Omit<NewSourceInput, 'name' | 'location' | 'clientIds'>;

export interface JwksSourceSetting {
  /** the seed file's key (snake_case); the CLI flag is its kebab-case */
  key: string;
  input: keyof SettingInput;
  arg: string;
  help: string;
  list?: ',';
  fromCli(text: string): SettingInput[keyof SettingInput];
  seed: z.ZodType;
  /** the stored value as a seed file states it */
  toSeed(source: JwksSource): unknown;
}

const printable = z.string().regex(/^[\x21-\x7e]{1,512}$/, 'must be 1-512 printable characters without spaces');
const prefix = z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable characters without spaces');

export const JWKS_SOURCE_SETTINGS: JwksSourceSetting[] = [
  {
    key: 'issuer',
    input: 'issuer',
    arg: '<iss>',
    help: 'the iss its JWTs state (required with --url and --file)',
    fromCli: (text) => text,
    seed: printable.optional().describe('the iss its JWTs state (required except with discovery)'),
    toSeed: (source) => source.issuer,
  },
  {
    key: 'audiences',
    input: 'audiences',
    arg: '<list>',
    help: 'comma-separated; the JWT must name one of them (default: this issuer)',
    list: ',',
    fromCli: (text) => splitList(text),
    seed: z.array(printable).default([]),
    toSeed: (source) => source.audiences,
  },
  {
    key: 'algorithms',
    input: 'algorithms',
    arg: '<list>',
    help: 'comma-separated allowed algorithms (default: RS256,ES256)',
    list: ',',
    fromCli: (text) => splitList(text),
    seed: z.array(z.string()).min(1).default(['RS256', 'ES256']),
    toSeed: (source) => source.algorithms,
  },
  {
    key: 'leeway',
    input: 'leewaySeconds',
    arg: '<seconds>',
    help: 'clock leeway (default: 60)',
    fromCli: (text) => wholeNumber(text, '--leeway'),
    seed: z.number().int().min(0).max(300).default(60),
    toSeed: (source) => source.leewaySeconds,
  },
  {
    key: 'max_lifetime',
    input: 'maxLifetimeSeconds',
    arg: '<seconds>',
    help: 'longest accepted exp - iat (default: 86400)',
    fromCli: (text) => wholeNumber(text, '--max-lifetime'),
    seed: z.number().int().min(60).max(30 * 86_400).default(86_400),
    toSeed: (source) => source.maxLifetimeSeconds,
  },
  {
    key: 'replay',
    input: 'replay',
    arg: '<mode>',
    help: 'reject: each jti once; allow: reusable until exp (default)',
    fromCli: (text) => text,
    seed: z.enum(['reject', 'allow']).default('allow'),
    toSeed: (source) => source.replay,
  },
  {
    key: 'subject_prefix',
    input: 'subjectPrefix',
    arg: '<prefix>',
    help: "prepended to the JWTs' sub in issued tokens",
    fromCli: (text) => text,
    seed: prefix.optional(),
    toSeed: (source) => source.subjectPrefix ?? undefined,
  },
];

/** The settings a seed file's JWKS source gives, as `jwks add` takes them (repeated algorithms once). */
export function sourceSettingsFromSeed(entry: Record<string, unknown>): SettingInput {
  const input = inputFromSeed<SettingInput>(JWKS_SOURCE_SETTINGS, entry);
  if (input.algorithms) input.algorithms = [...new Set(input.algorithms)];
  return input;
}
