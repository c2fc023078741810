// One long-lived bash for test/readme.test.ts: blocks run in it one after another, as a reader
// pastes them into one terminal, so variables and the working directory carry over.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// Requests arrive on fd 3 as "<keep|sub> <merged: yes|no> <path without extension>"; each is
// answered on stdout with "done <status>". `keep` runs the block in this shell with `set -e`, so
// a failing block ends the shell with its status; `sub` runs it in a subshell and reports its
// status, for blocks that are expected to fail.
const DRIVER = `set -uo pipefail
while IFS=' ' read -r readme_test_mode readme_test_merged readme_test_block <&3; do
  if [ "$readme_test_merged" = yes ]; then exec 4>"$readme_test_block.out" 5>&4; else exec 4>"$readme_test_block.out" 5>"$readme_test_block.err"; fi
  if [ "$readme_test_mode" = keep ]; then
    set -e
    source "$readme_test_block.sh" </dev/null >&4 2>&5
    set +e
    echo "done 0"
  else
    ( set -e; source "$readme_test_block.sh" ) </dev/null >&4 2>&5
    echo "done $?"
  fi
  exec 4>&- 5>&-
done
`;

export interface BlockResult {
  /** the block's exit status; -1 when it ran out of time */
  status: number;
  stdout: string;
  /** empty for merged blocks, whose stderr is in stdout */
  stderr: string;
}

/** Signals a child started with `detached: true` and everything it started. */
export function killGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export class BlockShell {
  readonly child: ChildProcess;
  private readonly exit: Promise<number>;
  private readonly answers: string[] = [];
  private answered: (() => void) | undefined;
  private count = 0;

  /** `files` is a directory of the harness's own (scripts and their output), not the working directory. */
  constructor(
    private readonly files: string,
    cwd: string,
    env: Record<string, string>,
  ) {
    writeFileSync(join(files, 'driver.sh'), DRIVER);
    this.child = spawn('bash', ['--noprofile', '--norc', join(files, 'driver.sh')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
    this.exit = once(this.child, 'exit').then(([code, signal]) => code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    void this.exit.then(() => this.answered?.());
    // A shell that is gone makes the request pipe fail (EPIPE on a write, ECONNRESET on its read
    // side) before its exit is heard; the exit is how that is reported, so these errors are not.
    this.child.on('error', () => {});
    this.child.stdio[3]!.on('error', () => {});
    this.child.stdout!.on('error', () => {});
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.answers.push(line);
      this.answered?.();
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Runs a block; `keep` runs it in the shell itself (its variables stay), otherwise in a subshell. */
  async run(script: string, options: { keep: boolean; merged: boolean; limitMs: number }): Promise<BlockResult> {
    const base = join(this.files, `block-${++this.count}`);
    if (!this.alive) return { status: await this.exit, stdout: '', stderr: '' };
    writeFileSync(`${base}.sh`, `${script}\n`);
    (this.child.stdio[3] as NodeJS.WritableStream).write(`${options.keep ? 'keep' : 'sub'} ${options.merged ? 'yes' : 'no'} ${base}\n`);
    const deadline = Date.now() + options.limitMs;
    let status: number | undefined;
    while (status === undefined) {
      const answer = this.answers.shift();
      if (answer !== undefined) {
        status = Number(answer.replace(/^done /, ''));
      } else if (!this.alive) {
        status = await this.exit;
      } else if (Date.now() > deadline) {
        killGroup(this.child, 'SIGKILL');
        status = -1;
      } else {
        await new Promise<void>((resolve) => {
          this.answered = resolve;
          setTimeout(resolve, 1000);
        });
        this.answered = undefined;
      }
    }
    return { status, stdout: readIfThere(`${base}.out`), stderr: options.merged ? '' : readIfThere(`${base}.err`) };
  }
}

function readIfThere(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
