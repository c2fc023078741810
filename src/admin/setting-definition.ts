// What the per-kind setting tables (application-definition.ts and its siblings) have in common:
// a setting's seed-file key names its CLI flag and commander's option name, and its `input` names
// where its value goes in what the kind's admin functions take.

/** The CLI flag of a setting: `default_scopes` → `--default-scopes`. */
export function flagOf(setting: { key: string }): string {
  return `--${setting.key.replace(/_/g, '-')}`;
}

/** commander's name for a flag's value: `default_scopes` → `defaultScopes`. */
export function optionNameOf(setting: { key: string }): string {
  return setting.key.replace(/_(.)/g, (_, c: string) => c.toUpperCase());
}

/** The values a seed-file entry gives, under the names the kind's admin functions take them by. */
export function inputFromSeed<T>(settings: readonly { key: string; input: string }[], entry: Record<string, unknown>): T {
  const input: Record<string, unknown> = {};
  for (const setting of settings) input[setting.input] = entry[setting.key];
  return input as T;
}
