// The server the benchmarks drive: the build in dist/ (brought up to date first), started with the
// flags npm start gives it, so that they measure what production runs rather than the sources
// through a transpiler.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { servingExecArgv } from '../src/heap-settings.ts';
import { buildIfStale } from './build.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function startBuiltServer(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  await buildIfStale();
  return spawn(process.execPath, [...servingExecArgv([]), 'dist/src/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
}
