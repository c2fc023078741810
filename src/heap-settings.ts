// V8 heap settings for the processes that serve (the primary and its workers).
//
// The young generation: a token request allocates a few kilobytes that are garbage by the time it
// is answered; with the 16 MiB semi-spaces of Node.js 20 and 22 the scavenger runs often enough to
// cost about 5 % of ES256 throughput under load. 32 MiB halves how often it runs, for 32 MiB more
// memory per process; 64 MiB measured no faster. Node.js 24 sizes semi-spaces by the machine's
// memory (64 MiB with 24 GiB): there the setting saves memory instead.
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=32';

// V8's memory reducer: once a process's allocation slows down (the primary always; a worker between
// bursts of requests) it runs full collections to give memory back, each an event-loop pause of
// ~30 ms on a two-core virtual machine, which a request or a scrape arriving then waits out. A
// server's heap is the size its load needs; it stays that size instead.
export const MEMORY_REDUCER_FLAG = '--no-memory-reducer';

/** The flags of `npm start`, in order. */
export const SERVING_FLAGS = [YOUNG_GENERATION_FLAG, MEMORY_REDUCER_FLAG] as const;

const OPERATOR_CHOICES: Record<(typeof SERVING_FLAGS)[number], RegExp> = {
  [YOUNG_GENERATION_FLAG]: /^--max[-_]semi[-_]space[-_]size(=|$)/,
  [MEMORY_REDUCER_FLAG]: /^--(no[-_])?memory[-_]reducer$/,
};

/** The flags a serving process starts with: the parent's, plus each of ours the operator did not set otherwise. */
export function servingExecArgv(execArgv: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  return [...execArgv, ...SERVING_FLAGS.filter((flag) => !given.some((g) => OPERATOR_CHOICES[flag].test(g)))];
}
