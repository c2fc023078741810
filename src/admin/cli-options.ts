import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Help, InvalidArgumentError, type Command, type HelpConfiguration, type Option } from 'commander';
import { AdminError } from './errors.ts';

/** The most the CLI reads from any file it is given (certificates, JWKS documents, JWTs). */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024;

/** For repeatable options such as --app. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * --help marks required options "(required)"; commander shows nothing by default. A repeatable
 * required option (--app of cert add) is declared with requiredOption and an empty list as its
 * default, so that the command itself can refuse an empty list with a reason of its own; that
 * default is not shown.
 */
export const REQUIRED_OPTIONS_MARKED: HelpConfiguration = {
  optionDescription(option: Option): string {
    if (!option.mandatory) return Help.prototype.optionDescription.call(this, option);
    return option.description ? `${option.description} (required)` : '(required)';
  },
};

/**
 * For list options (--audiences a,b): given again, the values add up (`--audiences a --audiences b`
 * is `a,b`) instead of the last one silently replacing the others. A default is replaced, not extended.
 */
export function accumulate(separator: string): (value: string, previous: string | undefined) => string {
  let given = false;
  return (value, previous) => {
    const joined = given && previous !== undefined ? `${previous}${separator}${value}` : value;
    given = true;
    return joined;
  };
}

/** Every other option that takes a value may be given once: a second value is refused, never dropped. */
export function refuseRepeatedOptions(command: Command): void {
  for (const option of command.options) {
    if (option.parseArg || (!option.required && !option.optional)) continue;
    let given = false;
    option.argParser((value: string) => {
      if (given) throw new InvalidArgumentError(`${option.long} may be given once`);
      given = true;
      return value;
    });
  }
  for (const sub of command.commands) refuseRepeatedOptions(sub);
}

/**
 * A text file the operator named, read up to MAX_INPUT_FILE_BYTES: a device such as /dev/zero or
 * a huge file is refused after that many bytes instead of filling memory.
 */
export function readInputFile(path: string): string {
  let fd: number;
  try {
    // a pipe would block the command until someone writes to it, a directory cannot be read
    const kind = statSync(path);
    if (kind.isFIFO() || kind.isSocket() || kind.isDirectory()) throw new AdminError(`cannot read ${path}: not a regular file`);
    fd = openSync(path, 'r');
  } catch (error) {
    if (error instanceof AdminError) throw error;
    throw new AdminError(`cannot read ${path}`);
  }
  try {
    const buffer = Buffer.alloc(MAX_INPUT_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MAX_INPUT_FILE_BYTES) throw new AdminError(`${path} is larger than ${MAX_INPUT_FILE_BYTES / 1024} KiB: not a file this command reads`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch (error) {
    if (error instanceof AdminError) throw error;
    throw new AdminError(`cannot read ${path}`);
  } finally {
    closeSync(fd);
  }
}

/** A whole number option, or undefined when absent. */
export function wholeNumber(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) throw new AdminError(`${flag} must be a whole number`);
  return Number(value);
}
