import type { Command } from 'commander';
import type { ApplicationFieldInput } from './application-fields.ts';
import { removeApplication } from './application-removal.ts';
import { changeApplication, createApplication, listAllApplications, requireApplication, rotateApplicationSecret, setApplicationState } from './applications.ts';
import type { Leaf, Run } from './cli.ts';
import { accumulate } from './cli-options.ts';
import { AdminError } from './errors.ts';
import { splitList } from './input.ts';
import { SHOWN_ONCE } from './output.ts';
import { applicationView } from './views.ts';

type Options = Record<string, string | string[] | boolean | undefined>;

/** --ttl: whole seconds (range-checked with the other fields); on update, `default` returns to ACCESS_TOKEN_TTL. */
function ttlOption(value: unknown, allowDefault: boolean): number | null | undefined {
  if (value === undefined) return undefined;
  if (allowDefault && value === 'default') return null;
  if (!/^\d+$/.test(String(value))) throw new AdminError(`--ttl must be a whole number of seconds${allowDefault ? ' or default' : ''}`);
  return Number(value);
}

/** The options app create and app update share, as given (an absent option is undefined). */
function fieldOptions(o: Options, update: boolean): ApplicationFieldInput {
  const list = (value: unknown, separator?: RegExp) => (value === undefined ? undefined : splitList(value as string, separator));
  return {
    name: o.name as string | undefined,
    grants: list(o.grants),
    scopes: list(o.scopes, / +/),
    defaultScopes: list(o.defaultScopes, / +/),
    audiences: list(o.audiences),
    ttlSeconds: ttlOption(o.ttl, update),
    policyMode: o.policyMode as string | undefined,
    authMethods: o.authMethods === undefined ? undefined : update && o.authMethods === 'default' ? null : splitList(o.authMethods as string),
  };
}

/** The options that app create and app update share. */
function withFieldOptions(command: Command, update: boolean): Command {
  return command
    .option('--name <name>', update ? 'a new display name' : 'display name (default: the client id)')
    .option('--grants <list>', `comma-separated grant types${update ? ', replacing the current ones' : ''}`, accumulate(','), ...(update ? [] : ['client_credentials']))
    .option('--scopes <scopes>', `space-separated scopes it may request${update ? ', replacing the current ones' : ''}`, accumulate(' '))
    .option('--default-scopes <scopes>', 'space-separated scopes granted when none are requested', accumulate(' '))
    .option('--audiences <list>', 'comma-separated audiences; the first is the default', accumulate(','))
    .option('--ttl <seconds>', update ? 'access-token lifetime, or default for ACCESS_TOKEN_TTL' : 'access-token lifetime')
    .option('--policy-mode <mode>', 'all or any', ...(update ? [] : ['all']))
    .option(
      '--auth-methods <list>',
      `comma-separated client authentication methods it may use: client_secret_basic, client_secret_post, private_key_jwt (default: those it has credentials for${update ? '; default returns to that' : ''})`,
      accumulate(','),
    );
}

/** app create | list | show | update | rotate-secret | enable | disable | delete */
export function registerApplicationCommands(root: Command, leaf: Leaf, run: Run): void {
  const app = root.command('app').description('applications (OAuth clients)');
  withFieldOptions(leaf(app, 'create <client_id>', 'register an application').option('--secret', 'generate a client secret'), false).action(
    run(async (ctx, [clientId], o) => {
      const fields = fieldOptions(o, false);
      const { app: created, secret } = await createApplication(ctx, {
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
    rows: (await listAllApplications(ctx)).map(applicationView),
    columns: ['client_id', 'name', 'enabled', 'has_secret', 'grant_types', 'scopes', 'audiences'],
  })));
  leaf(app, 'show <client_id>', 'show one application').action(run(async (ctx, [clientId]) => ({ record: applicationView(await requireApplication(ctx, clientId!)) })));
  withFieldOptions(leaf(app, 'update <client_id>', 'change the given settings, checked as app create checks them; lists replace the current ones'), true).action(
    run(async (ctx, [clientId], o) => ({ record: applicationView(await changeApplication(ctx, clientId!, fieldOptions(o, true))) })),
  );
  leaf(app, 'rotate-secret <client_id>', 'replace the client secret (the old one stops working)').action(run(async (ctx, [clientId]) => {
    const { app: rotated, secret } = await rotateApplicationSecret(ctx, clientId!);
    return { record: { ...applicationView(rotated), client_secret: secret }, note: `client_secret ${SHOWN_ONCE}` };
  }));
  leaf(app, 'enable <client_id>', 'issue tokens to a disabled application again').action(run(async (ctx, [clientId]) => ({ record: applicationView(await setApplicationState(ctx, clientId!, true)) })));
  leaf(app, 'disable <client_id>', 'stop issuing tokens to an application').action(run(async (ctx, [clientId]) => ({ record: applicationView(await setApplicationState(ctx, clientId!, false)) })));
  leaf(
    app,
    'delete <client_id>',
    'delete an application; refused while service accounts, certificates, JWKS sources or policies refer to it, unless --force: ' +
      'then its service accounts bound to no other application are deleted with their app passwords, and certificates, JWKS sources, ' +
      'policies and other service accounts only lose their binding to it (they are kept)',
  )
    .option('--force', 'delete it although something refers to it (see above)')
    .action(run(async (ctx, [clientId], o) => {
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
