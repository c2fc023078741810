import type { Command } from 'commander';
import type { Leaf, Run } from './cli.ts';
import { AdminError } from './errors.ts';

// The operations are loaded when a command runs: --help and the other commands do without them.
const tokens = () => import('./tokens.ts');

/** token revoke --jti J | token revoke --app CLIENT_ID --before TIME */
export function registerTokenCommands(root: Command, leaf: Leaf, run: Run): void {
  const token = root.command('token').description('issued access tokens');
  leaf(token, 'revoke', 'make issued tokens inactive at introspection: one by its jti, or all an application was issued before a moment')
    .option('--jti <jti>', 'the jti of one token (from the audit log or the token itself)')
    .option('--app <client_id>', 'the application whose tokens to revoke (with --before)')
    .option('--before <time>', 'with --app: tokens issued before this moment, now or e.g. 2026-11-30T12:00:00Z')
    .action(run(async (ctx, _args, o) => {
      if (o.jti !== undefined) {
        if (o.app !== undefined || o.before !== undefined) throw new AdminError('give either --jti, or --app with --before');
        return { record: await (await tokens()).revokeTokenById(ctx, o.jti as string), note: REACH };
      }
      if (o.app === undefined || o.before === undefined) throw new AdminError('give --jti, or --app with --before');
      return { record: await (await tokens()).revokeIssuedTokens(ctx, o.app as string, o.before as string), note: REACH };
    }));
}

const REACH = 'Introspection answers inactive within 2 s. APIs that only verify signatures accept the token until it expires.';
