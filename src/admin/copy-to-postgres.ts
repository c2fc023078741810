// Moving an installation from SQLite to PostgreSQL: every row, with its id, so that secrets' hashes,
// sealed signing keys, bindings, revocations, replay records and the audit log carry over as they are
// and every token already issued stays valid.
import { migratePostgres } from '../store/migrate-postgres.ts';
import { withMigrationSession } from '../store/postgres-session.ts';
import { postgresTarget, postgresUrlProblems, quoteIdentifier, redactedUrl } from '../store/postgres-url.ts';
import { createPrisma, type Db, type Tx } from '../store/prisma.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import type { View } from './views.ts';

/** Rows read and written at a time: the audit log may hold millions. */
const BATCH = 5000;

type Delegate = {
  findMany(args: { where?: Record<string, unknown>; orderBy: Record<string, 'asc'>[]; skip?: number; take: number }): Promise<Record<string, unknown>[]>;
  createMany(args: { data: Record<string, unknown>[] }): Promise<{ count: number }>;
  count(): Promise<number>;
};

/** Every table in an order that satisfies its foreign keys, with a column order to page by and its serial id, if any. */
const TABLES: { model: keyof Db & string; table: string; orderBy: string[]; serial?: string }[] = [
  { model: 'application', table: 'applications', orderBy: ['id'], serial: 'id' },
  { model: 'serviceAccount', table: 'service_accounts', orderBy: ['id'], serial: 'id' },
  { model: 'serviceAccountBinding', table: 'service_account_bindings', orderBy: ['serviceAccountId', 'applicationId'] },
  { model: 'appPassword', table: 'app_passwords', orderBy: ['id'] },
  { model: 'verificationCertificate', table: 'verification_certificates', orderBy: ['id'], serial: 'id' },
  { model: 'certificateBinding', table: 'certificate_bindings', orderBy: ['certificateId', 'applicationId'] },
  { model: 'jwksSource', table: 'jwks_sources', orderBy: ['id'], serial: 'id' },
  { model: 'jwksSourceBinding', table: 'jwks_source_bindings', orderBy: ['sourceId', 'applicationId'] },
  { model: 'policy', table: 'policies', orderBy: ['id'], serial: 'id' },
  { model: 'policyBinding', table: 'policy_bindings', orderBy: ['policyId', 'applicationId'] },
  { model: 'signingKey', table: 'signing_keys', orderBy: ['kid'] },
  { model: 'usedAssertion', table: 'used_assertions', orderBy: ['issuer', 'jti'] },
  { model: 'tokenRevocation', table: 'token_revocations', orderBy: ['id'], serial: 'id' },
  { model: 'auditEvent', table: 'audit_events', orderBy: ['id'], serial: 'id' },
];

const delegate = (db: Db | Tx, model: string) => (db as unknown as Record<string, Delegate>)[model]!;

/**
 * `copy-to URL`: migrates the PostgreSQL database at URL, refuses it unless it holds no tokenmint
 * data yet, and copies every row of the configured SQLite database into it in one transaction.
 */
export async function copyToPostgres(ctx: AdminContext, url: string): Promise<View> {
  if (ctx.config.database.kind !== 'sqlite') throw new AdminError('copy-to copies a SQLite database: DATABASE_URL must name the SQLite file to copy');
  if (!/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url)) throw new AdminError('copy-to needs a PostgreSQL URL: postgresql://user:password@host:5432/database');
  // the rules DATABASE_URL follows: the nodes will be configured with this URL
  const problems = postgresUrlProblems(url);
  if (problems.length > 0) throw new AdminError(problems.join('; '));
  const target = postgresTarget(url);
  const destination = await createPrisma({ kind: 'postgresql', url, poolSize: 2 });
  try {
    return await withMigrationSession(
      target,
      async (client) => {
        await migratePostgres(client, target.schema);
        for (const { model, table } of TABLES) {
          if ((await delegate(destination, model).count()) > 0) {
            throw new AdminError(`${redactedUrl(url)} already holds tokenmint data (${table}): copy-to only fills a database that has none`);
          }
        }
        const copied: Record<string, number> = {};
        const version = (await ctx.db.stateVersion.findUnique({ where: { id: 1 } }))?.version ?? 0;
        await destination.$transaction(
          async (tx) => {
            for (const { model, table, orderBy, serial } of TABLES) {
              copied[table] = 0;
              const order = orderBy.map((column) => ({ [column]: 'asc' as const }));
              // one key column: each batch starts after the last (an offset would reread the audit log)
              const key = orderBy.length === 1 ? orderBy[0]! : undefined;
              let last: unknown;
              for (let skip = 0; ; skip += BATCH) {
                const page = key ? { where: last === undefined ? {} : { [key]: { gt: last } } } : { skip };
                const rows = await delegate(ctx.db, model).findMany({ ...page, orderBy: order, take: BATCH });
                if (rows.length > 0) copied[table] += (await delegate(tx, model).createMany({ data: rows })).count;
                if (rows.length < BATCH) break;
                if (key) last = rows[rows.length - 1]![key];
              }
              if (serial) {
                // the next id drawn continues after the copied ones
                await tx.$executeRawUnsafe(
                  `SELECT setval(pg_get_serial_sequence('${quoteIdentifier(table).replaceAll("'", "''")}', '${serial}'), GREATEST((SELECT MAX(${quoteIdentifier(serial)}) FROM ${quoteIdentifier(table)}), 1), (SELECT COUNT(*) > 0 FROM ${quoteIdentifier(table)}))`,
                );
              }
            }
            // servers on the new database start from the copied state; the next admin change moves it on
            await tx.stateVersion.update({ where: { id: 1 }, data: { version } });
          },
          { maxWait: 30_000, timeout: 24 * 3_600_000 },
        );
        return { database: redactedUrl(url), ...copied };
      },
      { unreachable: (error) => new AdminError(`cannot reach ${redactedUrl(url)}: ${(error as Error).message}`) },
    );
  } finally {
    await destination.$disconnect();
  }
}
