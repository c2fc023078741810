import type { Command } from 'commander';
import { generateSecret } from '../secrets/format.ts';
import type { PlanEntry } from '../seed/apply.ts';
import type { Leaf, Run } from './cli.ts';
import { AdminError } from './errors.ts';

/** seed <file> [--dry-run] [--prune] | export [--format yaml|json] | secret generate [--app-password] */
export function registerSeedCommands(root: Command, leaf: Leaf, run: Run): void {
  leaf(root, 'seed <file>', 'apply a seed file (YAML or JSON): validated whole, planned, then applied in one transaction')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--prune', 'also delete what an earlier seed apply created and the file no longer names')
    .action(run(async (ctx, [file], o) => {
      // loaded when a seed file is applied: the other commands do without them
      const [{ seed, SeedConflictError, SeedReferenceError }, { loadSeedFile, SeedFileError }] = await Promise.all([import('../seed/apply.ts'), import('../seed/load.ts')]);
      let loaded;
      try {
        loaded = loadSeedFile(file!, ctx.config);
      } catch (error) {
        if (error instanceof SeedFileError) throw new AdminError(error.message);
        throw error;
      }
      try {
        const result = await seed(ctx, loaded, { dryRun: o.dryRun === true, prune: o.prune === true });
        return { raw: result, text: describePlan(result.plan, result.applied, o.dryRun === true, result.secrets) };
      } catch (error) {
        if (error instanceof SeedFileError || error instanceof SeedConflictError || error instanceof SeedReferenceError) throw new AdminError(error.message);
        throw error;
      }
    }));
  leaf(root, 'export', 'print every application, service account, certificate, JWKS source and policy as a seed file (no secrets)')
    .option('--format <format>', 'yaml or json', 'yaml')
    .action(run(async (ctx, _args, o) => {
      const format = o.format as string;
      if (format !== 'yaml' && format !== 'json') throw new AdminError('--format must be yaml or json');
      const { exportSeed, formatSeed } = await import('../seed/export.ts');
      const document = await exportSeed(ctx.db);
      return { raw: document, text: formatSeed(document, format).trimEnd(), textOnly: true };
    }));
}

function describePlan(plan: PlanEntry[], applied: boolean, dryRun: boolean, secrets: Record<string, string>): string {
  const lines = plan.map((e) => `${e.action.padEnd(11)} ${e.kind.replace('_', ' ')} ${e.name}${e.changes ? `: ${e.changes.join(', ')}` : ''}`);
  const changing = plan.some((e) => ['create', 'update', 'delete'].includes(e.action));
  lines.push('', dryRun ? 'dry run: nothing was changed' : applied ? 'applied' : changing ? 'not applied' : 'nothing to change');
  for (const [name, secret] of Object.entries(secrets)) lines.push(`${name}: ${secret}   (shown only this once)`);
  return lines.join('\n');
}

/** `secret generate`: a new secret in tokenmint's format, for a seed file's {env: NAME} reference; nothing is stored. */
export function generatedSecretText(appPassword: boolean): string {
  return generateSecret(appPassword ? 'app-password' : 'client-secret').secret;
}
