import type { Command } from 'commander';
import type { Leaf, Run } from './cli.ts';
import { accumulate } from './cli-options.ts';
import { SHOWN_ONCE } from './output.ts';
import { SERVICE_ACCOUNT_SETTINGS } from './service-account-definition.ts';
import { flagOf, optionNameOf } from './setting-definition.ts';
import type { BoundServiceAccount, ServiceAccountUpdate } from './service-accounts.ts';
import { appPasswordSummary, appPasswordView, serviceAccountView } from './views.ts';

// The operations are loaded when a command runs: --help and the other commands do without them.
const accounts = () => import('./service-accounts.ts');
const passwords = () => import('./app-passwords.ts');

const view = ({ account, clientIds }: BoundServiceAccount) => serviceAccountView(account, clientIds);

/** The options of the service account's settings, from its one definition. */
function withSettingOptions(command: Command, which: 'create' | 'update'): Command {
  for (const setting of SERVICE_ACCOUNT_SETTINGS) {
    const help = setting.help[which];
    if (help === undefined) continue;
    const flag = `${flagOf(setting)} ${setting.arg}`;
    if (setting.list) command.option(flag, help, accumulate(setting.list));
    else if (help === '') command.option(flag);
    else command.option(flag, help);
  }
  return command;
}

/** The settings as given (an absent option is undefined). */
function settingOptions(o: Record<string, unknown>): ServiceAccountUpdate {
  const input: ServiceAccountUpdate = {};
  for (const setting of SERVICE_ACCOUNT_SETTINGS) {
    const text = o[optionNameOf(setting)];
    if (text !== undefined) (input as Record<string, unknown>)[setting.input] = setting.fromCli(text as string);
  }
  return input;
}

/** service-account create | list | show | update | enable | disable | delete */
export function registerServiceAccountCommands(root: Command, leaf: Leaf, run: Run): void {
  const sa = root.command('service-account').description('service accounts');
  const create = leaf(sa, 'create <username>', 'create a service account bound to an application, with a first app password')
    .requiredOption('--app <client_id>', 'the application it gets tokens for');
  withSettingOptions(create, 'create')
    .option('--expires <duration>', 'lifetime of the first app password, e.g. 90d')
    .action(run(async (ctx, [username], o) => {
      const settings = settingOptions(o);
      const { account, password } = await (await accounts()).createServiceAccount(ctx, {
        username: username!,
        clientId: o.app as string,
        displayName: settings.displayName,
        groups: settings.groups ?? [],
        permissions: settings.permissions ?? [],
        expires: o.expires as string | undefined,
      });
      return {
        record: {
          ...serviceAccountView(account, [o.app as string]),
          client_id: o.app,
          app_password_id: password.id,
          app_password: password.secret,
          expires_at: password.expiresAt?.toISOString() ?? null,
        },
        note: `app_password ${SHOWN_ONCE}`,
      };
    }));
  leaf(sa, 'list', 'list service accounts').action(run(async (ctx) => ({
    rows: (await (await accounts()).listAllServiceAccounts(ctx)).map(view),
    columns: ['username', 'display_name', 'applications', 'enabled', 'groups', 'permissions'],
  })));
  leaf(sa, 'show <username>', 'show one service account, with its attributes and how many app passwords it holds').action(run(async (ctx, [username]) => {
    const bound = await (await accounts()).boundServiceAccount(ctx, username!);
    return { record: { ...view(bound), ...appPasswordSummary(await (await passwords()).listPasswordsOf(ctx, username!)) } };
  }));
  withSettingOptions(leaf(sa, 'update <username>', 'change the given fields; --groups and --permissions replace the current lists'), 'update')
    .action(run(async (ctx, [username], o) => ({ record: view(await (await accounts()).changeServiceAccount(ctx, username!, settingOptions(o))) })));
  leaf(sa, 'enable <username>', 'accept its app passwords again').action(run(async (ctx, [username]) => ({ record: view(await (await accounts()).setServiceAccountState(ctx, username!, true)) })));
  leaf(sa, 'disable <username>', 'refuse its app passwords at the token endpoint, keeping the account and its passwords').action(
    run(async (ctx, [username]) => ({ record: view(await (await accounts()).setServiceAccountState(ctx, username!, false)) })),
  );
  leaf(sa, 'delete <username>', 'delete a service account with its app passwords and bindings (nothing else refers to a service account)').action(run(async (ctx, [username]) => {
    const removed = await (await accounts()).removeServiceAccount(ctx, username!);
    return { record: { ...view(removed), deleted_app_passwords: removed.appPasswords } };
  }));

  const pw = root.command('app-password').description("service accounts' app passwords");
  leaf(pw, 'create <username>', 'issue another app password (rotation with overlap)')
    .option('--description <text>')
    .option('--expires <duration>', 'e.g. 90d')
    .action(run(async (ctx, [username], o) => {
      const password = await (await passwords()).createAppPassword(ctx, { username: username!, description: o.description as string | undefined, expires: o.expires as string | undefined });
      return { record: { id: password.id, username, app_password: password.secret, expires_at: password.expiresAt?.toISOString() ?? null }, note: `app_password ${SHOWN_ONCE}` };
    }));
  leaf(pw, 'list <username>', "list a service account's app passwords").action(run(async (ctx, [username]) => ({
    rows: (await (await passwords()).listPasswordsOf(ctx, username!)).map(appPasswordView),
    columns: ['id', 'status', 'description', 'created_at', 'expires_at', 'last_used_at'],
  })));
  leaf(pw, 'revoke <id>', 'revoke an app password').action(run(async (ctx, [id]) => ({ record: appPasswordView(await (await passwords()).revokePassword(ctx, id!)) })));
}
