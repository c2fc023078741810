import type { Command } from 'commander';
import type { Leaf, Run } from './cli.ts';
import { accumulate, collect, readInputFile } from './cli-options.ts';
import { POLICY_SETTINGS } from './policy-definition.ts';
import { AdminError } from './errors.ts';
import { splitList } from './input.ts';
import { policyView } from './views.ts';

// The operations are loaded when a command runs: --help and the other commands do without them.
const policies = () => import('./policies.ts');

/** policy add | list | show | update | remove | test */
export function registerPolicyCommands(root: Command, leaf: Leaf, run: Run): void {
  const policy = root.command('policy').description('CEL policies: who gets a token, and what it says');
  const add = leaf(policy, 'add <name>', 'add a policy, checked now, for the given applications');
  for (const setting of POLICY_SETTINGS) {
    const flag = `--${setting.key} ${setting.arg}`;
    if (setting.required) add.requiredOption(flag, setting.help.add);
    else if (setting.cliDefault !== undefined) add.option(flag, setting.help.add, setting.cliDefault);
    else add.option(flag, setting.help.add);
    if (setting.key === 'expression') add.requiredOption('--app <client_id>', 'bind to this application (repeatable; evaluated after its other policies)', collect, []);
  }
  add.action(run(async (ctx, [name], o) => ({
      record: policyView(await (await policies()).addPolicy(ctx, {
        name: name!,
        clientIds: o.app as string[],
        expression: o.expression as string,
        kind: o.kind as string,
        description: o.description as string | undefined,
      })),
    })));
  leaf(policy, 'list', 'list policies').action(run(async (ctx) => ({
    rows: (await (await policies()).listAllPolicies(ctx)).map(policyView),
    columns: ['name', 'kind', 'enabled', 'applications', 'expression'],
  })));
  leaf(policy, 'show <name>', 'show one policy').action(run(async (ctx, [name]) => ({ record: policyView(await (await policies()).requirePolicy(ctx, name!)) })));
  const update = leaf(policy, 'update <name>', 'change a policy; a new expression is checked first');
  for (const setting of POLICY_SETTINGS) if (setting.help.update !== undefined) update.option(`--${setting.key} ${setting.arg}`, setting.help.update);
  update
    .option('--enable', 'evaluate it again')
    .option('--disable', 'stop evaluating it, keeping it and its bindings')
    .option('--app <client_id>', 'also bind to this application (repeatable)', collect, [])
    .option('--remove-app <client_id>', 'unbind from this application (repeatable)', collect, [])
    .action(run(async (ctx, [name], o) => {
      if (o.enable && o.disable) throw new AdminError('give --enable or --disable, not both');
      const changes = {
        expression: o.expression as string | undefined,
        description: o.description as string | undefined,
        enabled: o.enable ? true : o.disable ? false : undefined,
        bind: (o.app as string[]).length > 0 ? (o.app as string[]) : undefined,
        unbind: (o.removeApp as string[]).length > 0 ? (o.removeApp as string[]) : undefined,
      };
      if (Object.values(changes).every((v) => v === undefined)) throw new AdminError('nothing to change');
      return { record: policyView(await (await policies()).changePolicy(ctx, name!, changes)) };
    }));
  leaf(policy, 'remove <name>', 'delete a policy and its bindings; refused while it is bound to applications, unless --force')
    .option('--force', 'remove it although applications use it (their requests are no longer decided by it)')
    .action(run(async (ctx, [name], o) => ({ record: policyView(await (await policies()).removePolicy(ctx, name!, o.force === true)) })));
  leaf(policy, 'test <name>', 'evaluate a policy without issuing anything')
    .option('--jwt <file>', 'a file holding the input JWT (its signature is not checked here)')
    .option('--username <username>', 'a service account as the caller')
    .option('--app <client_id>', 'the application (default: the first one the policy is bound to)')
    .option('--ip <address>', 'the client IP', '127.0.0.1')
    .option('--scopes <scopes>', 'space-separated scopes (default: the application\'s default scopes)', accumulate(' '))
    .option('--grant-type <grant_type>', 'the grant type the request would use')
    .action(run(async (ctx, [name], o) => {
      const { policy: tested, client_id, decision } = await (await policies()).testPolicy(ctx, {
        name: name!,
        jwt: o.jwt === undefined ? undefined : { text: readInputFile(o.jwt as string), file: o.jwt as string },
        username: o.username as string | undefined,
        clientId: o.app as string | undefined,
        ip: o.ip as string,
        scopes: o.scopes === undefined ? undefined : splitList(o.scopes as string, / +/),
        grantType: o.grantType as string | undefined,
      });
      return {
        record: {
          policy: tested.name,
          kind: tested.kind,
          client_id,
          decision: decision.allowed ? 'allow' : 'deny',
          reason: decision.allowed ? null : decision.reason,
          claims: decision.allowed ? decision.claims : null,
        },
      };
    }));
}
