import type { Command } from 'commander';
import type { ApplicationFieldInput } from './application-fields.ts';
import { APPLICATION_SETTINGS } from './application-definition.ts';
import { flagOf, optionNameOf } from './setting-definition.ts';
import type { Leaf, Run } from './cli.ts';
import { accumulate } from './cli-options.ts';
import { SHOWN_ONCE } from './output.ts';
import { applicationView } from './views.ts';

type Options = Record<string, string | string[] | boolean | undefined>;

// The operations are loaded when a command runs: --help and the other commands do without them.
const applications = () => import('./applications.ts');

/** The settings app create and app update share, as given (an absent option is undefined). */
function fieldOptions(o: Options, update: boolean): ApplicationFieldInput {
  const input: ApplicationFieldInput = {};
  for (const setting of APPLICATION_SETTINGS) {
    const text = o[optionNameOf(setting)];
    if (text !== undefined) (input as Record<string, unknown>)[setting.input] = setting.fromCli(text as string, update);
  }
  return input;
}

/** The options that app create and app update share, one per setting of the application's definition. */
function withFieldOptions(command: Command, update: boolean): Command {
  for (const setting of APPLICATION_SETTINGS) {
    const flag = `${flagOf(setting)} ${setting.arg}`;
    const help = update ? setting.help.update : setting.help.create;
    const fallback = !update && setting.cliDefault !== undefined ? [setting.cliDefault] : [];
    if (setting.list) command.option(flag, help, accumulate(setting.list), ...fallback);
    else command.option(flag, help, ...fallback);
  }
  return command;
}

/** app create | list | show | update | rotate-secret | enable | disable | delete */
export function registerApplicationCommands(root: Command, leaf: Leaf, run: Run): void {
  const app = root.command('app').description('applications (OAuth clients)');
  withFieldOptions(leaf(app, 'create <client_id>', 'register an application').option('--secret', 'generate a client secret'), false).action(
    run(async (ctx, [clientId], o) => {
      const fields = fieldOptions(o, false);
      const { app: created, secret } = await (await applications()).createApplication(ctx, {
        ...fields,
        clientId: clientId!,
        withSecret: o.secret === true,
        grants: fields.grants ?? [],
        scopes: fields.scopes ?? [],
        defaultScopes: fields.defaultScopes ?? [],
        audiences: fields.audiences ?? [],
        ttlSeconds: fields.ttlSeconds ?? undefined,
        authMethods: fields.authMethods ?? undefined,
      });
      const record = { ...applicationView(created), ...(secret ? { client_secret: secret } : {}) };
      return { record, note: secret ? `client_secret ${SHOWN_ONCE}` : undefined };
    }),
  );
  leaf(app, 'list', 'list applications').action(run(async (ctx) => ({
    rows: (await (await applications()).listAllApplications(ctx)).map(applicationView),
    columns: ['client_id', 'name', 'enabled', 'has_secret', 'grant_types', 'scopes', 'audiences'],
  })));
  leaf(app, 'show <client_id>', 'show one application').action(run(async (ctx, [clientId]) => ({ record: applicationView(await (await applications()).requireApplication(ctx, clientId!)) })));
  withFieldOptions(leaf(app, 'update <client_id>', 'change the given settings, checked as app create checks them; lists replace the current ones'), true).action(
    run(async (ctx, [clientId], o) => ({ record: applicationView(await (await applications()).changeApplication(ctx, clientId!, fieldOptions(o, true))) })),
  );
  leaf(app, 'rotate-secret <client_id>', 'replace the client secret (the old one stops working)').action(run(async (ctx, [clientId]) => {
    const { app: rotated, secret } = await (await applications()).rotateApplicationSecret(ctx, clientId!);
    return { record: { ...applicationView(rotated), client_secret: secret }, note: `client_secret ${SHOWN_ONCE}` };
  }));
  leaf(app, 'enable <client_id>', 'issue tokens to a disabled application again').action(run(async (ctx, [clientId]) => ({ record: applicationView(await (await applications()).setApplicationState(ctx, clientId!, true)) })));
  leaf(app, 'disable <client_id>', 'stop issuing tokens to an application').action(run(async (ctx, [clientId]) => ({ record: applicationView(await (await applications()).setApplicationState(ctx, clientId!, false)) })));
  leaf(
    app,
    'delete <client_id>',
    'delete an application; refused while service accounts, certificates, JWKS sources or policies refer to it, unless --force: ' +
      'then its service accounts bound to no other application are deleted with their app passwords, and certificates, JWKS sources, ' +
      'policies and other service accounts only lose their binding to it (they are kept)',
  )
    .option('--force', 'delete it although something refers to it (see above)')
    .action(run(async (ctx, [clientId], o) => {
      const { removeApplication } = await import('./application-removal.ts');
      const removed = await removeApplication(ctx, clientId!, o.force === true);
      return {
        record: {
          ...applicationView(removed.app),
          deleted_service_accounts: removed.deletedServiceAccounts,
          unbound_service_accounts: removed.unbound.serviceAccounts,
          unbound_certificates: removed.unbound.certificates,
          unbound_jwks_sources: removed.unbound.jwksSources,
          unbound_policies: removed.unbound.policies,
        },
      };
    }));
}
