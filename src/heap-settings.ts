// V8's young generation for the processes that serve. A token request allocates a few kilobytes
// that are garbage by the time it is answered; with the 16 MiB semi-spaces of Node.js 20 and 22 the
// scavenger runs often enough to cost about 5 % of ES256 throughput under load. 32 MiB halves how
// often it runs, for 32 MiB more memory per process; 64 MiB measured no faster. Node.js 24 sizes
// semi-spaces by the machine's memory (64 MiB with 24 GiB): there the setting saves memory instead.
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=32';

/** The flags a serving process starts with: the parent's, plus the young generation unless the operator set one. */
export function servingExecArgv(execArgv: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(flag));
  return chosen ? [...execArgv] : [...execArgv, YOUNG_GENERATION_FLAG];
}
