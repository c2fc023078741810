import type { Command } from 'commander';
import type { Leaf, Run } from './cli.ts';
import { accumulate, collect, readInputFile } from './cli-options.ts';
import { JWKS_SOURCE_SETTINGS } from './jwks-source-definition.ts';
import { flagOf, optionNameOf } from './setting-definition.ts';
import { AdminError } from './errors.ts';
import type { NewSourceInput } from './jwks-sources.ts';
import { jwksSourceView } from './views.ts';

// The operations are loaded when a command runs: --help and the other commands do without them.
const jwksSources = () => import('./jwks-sources.ts');

/** jwks add | list | refresh | remove */
export function registerJwksCommands(root: Command, leaf: Leaf, run: Run): void {
  const jwks = root.command('jwks').description('JWKS sources: external issuers whose JWTs are exchanged for tokens');
  const add = leaf(jwks, 'add <name>', 'trust an external issuer for the given applications')
    .option('--url <url>', 'the JWKS URL')
    .option('--discovery <url>', 'an OpenID discovery URL (its jwks_uri is used; its issuer is the default --issuer)')
    .option('--file <jwks>', 'a JWKS document (JSON)')
    .requiredOption('--app <client_id>', 'bind to this application (repeatable)', collect, []);
  for (const setting of JWKS_SOURCE_SETTINGS) {
    if (setting.list) add.option(`${flagOf(setting)} ${setting.arg}`, setting.help, accumulate(setting.list));
    else add.option(`${flagOf(setting)} ${setting.arg}`, setting.help);
  }
  add.action(run(async (ctx, [name], o) => {
      const given = (['url', 'discovery', 'file'] as const).filter((k) => o[k] !== undefined);
      if (given.length !== 1) throw new AdminError('give exactly one of --url, --discovery or --file');
      const location: NewSourceInput['location'] =
        o.file !== undefined ? { kind: 'document', text: readInputFile(o.file as string) } : o.url !== undefined ? { kind: 'url', url: o.url as string } : { kind: 'discovery', url: o.discovery as string };
      const settings: Record<string, unknown> = {};
      for (const setting of JWKS_SOURCE_SETTINGS) {
        const text = o[optionNameOf(setting)];
        if (text !== undefined) settings[setting.input] = setting.fromCli(text as string);
      }
      const source = await (await jwksSources()).addJwksSource(ctx, { ...settings, name: name!, location, clientIds: o.app as string[] });
      return { record: jwksSourceView(source) };
    }));
  leaf(jwks, 'list', 'list JWKS sources').action(run(async (ctx) => ({
    rows: (await (await jwksSources()).listAllJwksSources(ctx)).map(jwksSourceView),
    columns: ['name', 'kind', 'issuer', 'applications', 'keys', 'fetched_at', 'last_error'],
  })));
  leaf(jwks, 'refresh <name>', 'fetch the keys now (or, for a document source, replace them with --file)')
    .option('--file <jwks>', 'the new JWKS document of a document source')
    .action(run(async (ctx, [name], o) => ({
      record: jwksSourceView(await (await jwksSources()).refreshJwksSource(ctx, name!, o.file === undefined ? undefined : readInputFile(o.file as string))),
    })));
  leaf(jwks, 'remove <name>', 'stop trusting a JWKS source; refused while it is bound to applications, unless --force')
    .option('--force', 'remove it and its bindings although applications use it')
    .action(run(async (ctx, [name], o) => ({ record: jwksSourceView(await (await jwksSources()).removeJwksSource(ctx, name!, o.force === true)) })));
}
