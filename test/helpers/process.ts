// The real server as a child process (`node src/main.ts`), for tests of start-up, workers and
// process-level faults.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const ROOT = new URL('../..', import.meta.url).pathname;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Started {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
}

/** Starts the server with exactly this environment (plus PATH and HOME); `shellPrefix` runs first, e.g. `ulimit -n 256`. */
export function start(env: Record<string, string>, shellPrefix?: string): Started {
  return started(
    shellPrefix
      ? spawn('sh', ['-c', `${shellPrefix}; exec "${process.execPath}" --import tsx src/main.ts`], spawnOptions(env))
      : spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], spawnOptions(env)),
  );
}

/** Starts the built server (`dist/src/main.js`, as production runs it; `npm test` builds it first) with exactly this environment (plus PATH and HOME). */
export function startBuilt(env: Record<string, string>): Started {
  return started(spawn(process.execPath, ['dist/src/main.js'], spawnOptions(env)));
}

function spawnOptions(env: Record<string, string>): SpawnOptions {
  return { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] };
}

function started(command: ChildProcess): Started {
  let stdout = '';
  let stderr = '';
  command.stdout!.on('data', (d) => (stdout += d));
  command.stderr!.on('data', (d) => (stderr += d));
  // a spawn that failed shows in the output the test reports, rather than ending the test process
  command.on('error', (error) => (stderr += `\n[the process could not be started: ${error.message}]`));
  return { child: command, output: () => ({ stdout, stderr }) };
}

/** Polls `url` until it answers 200, up to `limitMs`; true when it did. */
export async function waitFor(url: string, limitMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).status === 200) return true;
    } catch {
      // not listening yet, or refused
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export const waitReady = (url: string, limitMs?: number) => waitFor(`${url}/readyz`, limitMs);

/** The worker processes of a primary (its other children, such as tsx's esbuild service, left out). Linux only. */
export function workerPids(primary: number): number[] {
  const children = readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('src/main.ts');
    } catch {
      return false;
    }
  });
}
