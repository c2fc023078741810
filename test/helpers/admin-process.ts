// An admin command as its own process, as an operator runs it. (Not in the test's process: SQLite's
// driver waits for a lock synchronously, so two connections of one process can hold each other up.)
import { spawn } from 'node:child_process';
import type { Instance } from './instance.ts';
import { ROOT } from './process.ts';

export interface AdminProcessRun {
  code: number | null;
  stderr: string;
  /** killed after `limitMs` */
  killed: boolean;
}

/** The environment an admin command needs to work on `instance`'s database, and nothing else of the test's. */
export function adminEnvironment(instance: Pick<Instance, 'config'>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: instance.config.databaseUrl,
    ...(instance.config.keyEncryptionKey ? { KEY_ENCRYPTION_KEY: instance.config.keyEncryptionKey.toString('base64') } : {}),
    ISSUER_URL: instance.config.issuer,
    LOG_LEVEL: 'silent',
  };
}

export function adminProcess(instance: Instance, argv: string[], limitMs = 120_000): Promise<AdminProcessRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...argv], {
      cwd: ROOT,
      env: adminEnvironment(instance),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: `${stderr}\n[the process could not be started: ${error.message}]`, killed });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, killed });
    });
  });
}
