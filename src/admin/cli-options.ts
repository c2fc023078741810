import { readFileSync } from 'node:fs';
import { AdminError } from './errors.ts';

/** For repeatable options such as --app. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new AdminError(`cannot read ${path}`);
  }
}

/** A whole number option, or undefined when absent. */
export function wholeNumber(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) throw new AdminError(`${flag} must be a whole number`);
  return Number(value);
}
