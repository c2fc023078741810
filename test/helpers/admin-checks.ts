import type { ExecutionContext } from 'ava';
import type { AdminRun } from './instance.ts';

/**
 * The assertions admin CLI tests make about one command: it succeeded quietly (`ok`), its `--json`
 * output (`json`, typed as `View` unless told otherwise), or it was refused with one error line.
 */
export function adminChecks<View>(admin: (...argv: string[]) => Promise<AdminRun>) {
  async function ok(t: ExecutionContext, ...argv: string[]): Promise<AdminRun> {
    const run = await admin(...argv);
    t.is(run.code, 0, `${argv.join(' ')} → ${run.stderr}`);
    t.is(run.stderr, '', argv.join(' '));
    return run;
  }

  async function json<T = View>(t: ExecutionContext, ...argv: string[]): Promise<T> {
    return (await ok(t, ...argv, '--json')).json<T>();
  }

  /** A refusal: exit 1, nothing on stdout, exactly one `error: ...` line on stderr. */
  async function refused(t: ExecutionContext, argv: string[], reason: RegExp | string): Promise<void> {
    const run = await admin(...argv);
    t.is(run.code, 1, `${argv.join(' ')} should fail`);
    t.is(run.stdout, '', argv.join(' '));
    t.regex(run.stderr, /^error: [^\n]+\n$/, argv.join(' '));
    if (typeof reason === 'string') t.is(run.stderr, `error: ${reason}\n`, argv.join(' '));
    else t.regex(run.stderr, reason, argv.join(' '));
  }

  return { ok, json, refused };
}
