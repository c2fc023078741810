import { Command, CommanderError } from 'commander';
import type { Config } from '../config.ts';
import { SecretHasher } from '../secrets/hasher.ts';
import { listAuditEvents } from '../store/audit.ts';
import { migrate } from '../store/migrate.ts';
import { LockTimeoutError, migratePostgres } from '../store/migrate-postgres.ts';
import { withMigrationSession } from '../store/postgres-session.ts';
import { postgresTarget, redactedUrl } from '../store/postgres-url.ts';
import { createPrisma } from '../store/prisma.ts';
import { DatabaseFileError, integrityProblems, openSqliteFile } from '../store/sqlite-file.ts';
import { describeStorageError, isBusy, isDatabaseError, sqliteCode } from '../store/storage-errors.ts';
import { REQUIRED_OPTIONS_MARKED, refuseRepeatedOptions } from './cli-options.ts';
import { registerApplicationCommands } from './cli-applications.ts';
import type { AdminContext } from './context.ts';
import { registerCertificateCommands } from './cli-certificates.ts';
import { registerJwksCommands } from './cli-jwks.ts';
import { registerKeyCommands } from './cli-keys.ts';
import { registerPolicyCommands } from './cli-policies.ts';
import { registerServiceAccountCommands } from './cli-service-accounts.ts';
import { registerTokenCommands } from './cli-tokens.ts';
import { generatedSecretText, registerSeedCommands } from './cli-seed.ts';
import { copyToPostgres } from './copy-to-postgres.ts';
import { AdminError } from './errors.ts';
import { parseDuration } from './input.ts';
import { formatRecord, formatTable, type Output } from './output.ts';
import { auditEventView, type View } from './views.ts';

export type Action = (ctx: AdminContext, args: string[], options: Record<string, string | string[] | boolean | undefined>) => Promise<Result>;
export type Result = { record: View; note?: string } | { rows: View[]; columns: string[] } | { raw: unknown; text: string; textOnly?: boolean };
/** Adds a leaf command (one that runs an action) with the options every leaf has. */
export type Leaf = (parent: Command, spec: string, description: string) => Command;
export type Run = (action: Action) => (...raw: unknown[]) => Promise<void>;

function program(run: Run, out: Output, err: Output): Command {
  const root = new Command('admin')
    .description('tokenmint administration')
    .option('--init', 'create the database (and apply migrations) when it does not exist yet; without it, a missing database is an error')
    .exitOverride()
    .configureHelp(REQUIRED_OPTIONS_MARKED)
    .configureOutput({ writeOut: (text) => out.write(text), writeErr: (text) => err.write(text) });
  const leaf: Leaf = (parent, spec, description) =>
    parent.command(spec).description(description).option('--json', 'machine-readable output').exitOverride();

  registerApplicationCommands(root, leaf, run);
  registerServiceAccountCommands(root, leaf, run);
  registerCertificateCommands(root, leaf, run);
  registerJwksCommands(root, leaf, run);
  registerPolicyCommands(root, leaf, run);
  registerTokenCommands(root, leaf, run);
  registerSeedCommands(root, leaf, run);
  const secret = root.command('secret').description('secrets in tokenmint\'s format');
  secret
    .command('generate')
    .description('print a new client secret (or app password) for a seed file\'s {env: NAME} reference; nothing is stored')
    .option('--app-password', 'an app password (tmap_...) instead of a client secret (tmcs_...)')
    .exitOverride()
    .action((o: { appPassword?: boolean }) => void out.write(`${generatedSecretText(o.appPassword === true)}\n`));
  leaf(root, 'check', "SQLite's full integrity check of the database (PRAGMA integrity_check)").action(run(async (ctx) => ({ record: await checkDatabase(ctx) })));

  leaf(root, 'copy-to <postgresql-url>', 'copy this SQLite database, every row, into an empty PostgreSQL database (migrated first), to run on several machines')
    .action(run(async (ctx, args) => ({
      record: await copyToPostgres(ctx, args[0]!),
      note: 'Start the nodes with DATABASE_URL set to that database and KEY_ENCRYPTION_KEY set to this installation\'s key-encryption key (the content of data/key-encryption-key if it was generated), or the signing keys cannot be opened.',
    })));

  registerKeyCommands(root, leaf, run);

  const audit = root.command('audit').description('the audit log');
  leaf(audit, 'list', 'recent audit events, newest first')
    .option('--since <duration>', 'e.g. 1h, 7d')
    .option('--app <client_id>', "one application's events, with the admin changes of what is bound to it")
    .option('--limit <n>', 'at most this many', '100')
    .action(run(async (ctx, _args, o) => {
      const since = o.since ? new Date(Date.now() - parseDuration(o.since as string, '--since')) : undefined;
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new AdminError('--limit must be a whole number from 1 to 100000');
      const events = await listAuditEvents(ctx.db, { since, clientId: o.app as string | undefined, limit });
      return { rows: events.map(auditEventView), columns: ['at', 'action', 'outcome', 'client_id', 'subject', 'reason', 'ip'] };
    }));
  refuseRepeatedOptions(root);
  return root;
}

function render(result: Result, json: boolean): string {
  if ('raw' in result) return json && !result.textOnly ? JSON.stringify(result.raw, null, 2) : result.text;
  if (json) return JSON.stringify('rows' in result ? result.rows : result.record, null, 2);
  if ('rows' in result) return formatTable(result.rows, result.columns);
  return result.note ? `${formatRecord(result.record)}\n\n${result.note}` : formatRecord(result.record);
}

let previous: Promise<unknown> = Promise.resolve();

/**
 * Runs one admin command against the configured database; returns the exit code. Commands run in
 * one process (the tests run many) take turns: SQLite waits for another connection's lock
 * synchronously, blocking the event loop, so two interleaved commands of one process could each
 * hold what the other waits for, until the busy timeout.
 */
export function runAdminCli(argv: string[], config: Config, out: Output, err: Output, options: { busyTimeoutMs?: number } = {}): Promise<number> {
  const turn = previous.then(() => runCommand(argv, config, out, err, options));
  previous = turn.catch(() => undefined);
  return turn;
}

async function runCommand(argv: string[], config: Config, out: Output, err: Output, options: { busyTimeoutMs?: number }): Promise<number> {
  const busyTimeoutMs = options.busyTimeoutMs ?? ADMIN_BUSY_TIMEOUT_MS;
  let ctx: AdminContext | undefined;
  // the database is opened only when a command runs (never for --help), and never created without --init
  const run = (action: Action) => async (...raw: unknown[]) => {
    const command = raw[raw.length - 1] as Command;
    const options = command.opts() as Record<string, string | string[] | boolean | undefined>;
    ctx ??= await openAdminContext(config, command.optsWithGlobals().init === true, busyTimeoutMs);
    const result = await action(ctx, command.args, options);
    out.write(`${render(result, options.json === true)}\n`);
  };
  try {
    await program(run, out, err).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    // commander has already written its usage or error text
    if (error instanceof CommanderError) return error.exitCode;
    err.write(`error: ${describe(error, busyTimeoutMs)}\n`);
    return 1;
  } finally {
    await ctx?.db.$disconnect();
  }
}

/** Waits this long for a database another process holds locked (a purge, a migration) before giving up. */
const ADMIN_BUSY_TIMEOUT_MS = 15_000;

async function openAdminContext(config: Config, init: boolean, busyTimeoutMs: number): Promise<AdminContext> {
  if (config.database.kind === 'postgresql') {
    await migrateForAdmin(config.database.url, busyTimeoutMs);
    return { db: await createPrisma(config.database, busyTimeoutMs, 2), hasher: new SecretHasher(config.argon2), config };
  }
  const sqlite = openSqliteFile(config.databaseFile, { create: init, busyTimeoutMs });
  try {
    migrate(sqlite);
  } finally {
    sqlite.close();
  }
  return { db: await createPrisma(config.databaseFile, busyTimeoutMs), hasher: new SecretHasher(config.argon2), config };
}

/** As the server's start does: a command never works on a schema older than its code. */
async function migrateForAdmin(url: string, busyTimeoutMs: number): Promise<void> {
  const target = postgresTarget(url);
  await withMigrationSession(target, (client) => migratePostgres(client, target.schema), { waitMs: busyTimeoutMs });
}

function describe(error: unknown, busyTimeoutMs: number): string {
  if (error instanceof AdminError || error instanceof DatabaseFileError) return error.message;
  if (error instanceof LockTimeoutError) return `${error.message} (a node migrating the database, or prisma migrate deploy); try again`;
  const code = (error as { code?: unknown }).code;
  if (code === 'P2002') return 'that name is already taken';
  if (isBusy(sqliteCode(error))) return `the database stayed locked by another process for ${busyTimeoutMs / 1000} s (a purge, a migration or another command); try again`;
  if (isDatabaseError(error)) return `the database could not be used: ${describeStorageError(error)}`;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n').filter((l) => l.trim()).pop() ?? 'failed';
}

/** `check`: the full integrity check; a damaged database is a failure (exit 1) naming what is wrong. */
async function checkDatabase(ctx: AdminContext): Promise<View> {
  if (ctx.config.database.kind === 'postgresql') {
    // PostgreSQL checks its own pages as it reads them; amcheck (pg_amcheck) checks them all
    await ctx.db.$queryRawUnsafe('SELECT 1');
    return { database: redactedUrl(ctx.config.database.url), integrity: 'PostgreSQL: reachable and migrated; pg_amcheck checks its files' };
  }
  const sqlite = openSqliteFile(ctx.config.databaseFile, { create: false });
  try {
    const problems = integrityProblems(sqlite, 'full');
    if (problems.length > 0) throw new AdminError(`the database ${ctx.config.databaseFile} is damaged: ${problems.join('; ')}; restore it from a backup`);
    return { database: ctx.config.databaseFile, integrity: 'ok' };
  } finally {
    sqlite.close();
  }
}
