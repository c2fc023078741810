// The settings of a service account, defined once: each one's CLI flag (service-account create /
// update), its seed-file key and schema, how CLI text becomes its value, and what export writes.
import { z } from 'zod';
import type { ServiceAccount } from '../store/types.ts';
import { splitList } from './input.ts';
import { inputFromSeed } from './setting-definition.ts';
import { MAX_ATTRIBUTES_BYTES, MAX_ATTRIBUTES_DEPTH, parseAttributes } from './service-account-attributes.ts';
import type { ServiceAccountUpdate } from './service-accounts.ts';

export interface ServiceAccountSetting {
  /** the seed file's key (snake_case); the CLI flag is its kebab-case */
  key: string;
  /** where it goes in what service-account create and update take */
  input: keyof ServiceAccountUpdate;
  arg: string;
  /** the flag's help on create (undefined: update only) and on update */
  help: { create?: string; update: string };
  list?: ',';
  fromCli(text: string): ServiceAccountUpdate[keyof ServiceAccountUpdate];
  seed: z.ZodType;
  toSeed(account: ServiceAccount): unknown;
}

/** A group or permission: printable, no spaces or commas (lists are comma-separated on the CLI). */
export const LABEL = z.string().min(1).max(256).regex(/^[^\s,]+$/, 'must not contain spaces or commas');

export const SERVICE_ACCOUNT_SETTINGS: ServiceAccountSetting[] = [
  {
    key: 'name',
    input: 'displayName',
    arg: '<display name>',
    help: { create: '', update: 'a new display name' },
    fromCli: (text) => text,
    seed: z.string().min(1).max(256).optional().describe('the display name (default: the username)'),
    toSeed: (account) => account.displayName,
  },
  {
    key: 'groups',
    input: 'groups',
    arg: '<list>',
    help: { create: 'comma-separated', update: 'comma-separated; "" for none' },
    list: ',',
    fromCli: (text) => splitList(text),
    seed: z.array(LABEL).default([]),
    toSeed: (account) => account.groups,
  },
  {
    key: 'permissions',
    input: 'permissions',
    arg: '<list>',
    help: { create: 'comma-separated', update: 'comma-separated; "" for none' },
    list: ',',
    fromCli: (text) => splitList(text),
    seed: z.array(LABEL).default([]),
    toSeed: (account) => account.permissions,
  },
  {
    key: 'attributes',
    input: 'attributes',
    arg: '<json>',
    help: {
      update: `a JSON object that policies read as service_account.attributes, replacing the current one (at most ${MAX_ATTRIBUTES_BYTES / 1024} KiB, ${MAX_ATTRIBUTES_DEPTH} levels; {} for none)`,
    },
    fromCli: (text) => parseAttributes(text),
    // checked with parseAttributes's limits when the file is validated
    seed: z.record(z.string(), z.unknown()).default({}).describe('a JSON object that policies read as service_account.attributes'),
    toSeed: (account) => account.attributes,
  },
];

/** The settings a seed file's service-account entry gives, as service-account create and update take them. */
export function accountSettingsFromSeed(entry: Record<string, unknown>): ServiceAccountUpdate {
  return inputFromSeed(SERVICE_ACCOUNT_SETTINGS, entry);
}
