import type { Command } from 'commander';
import type { Leaf, Run } from './cli.ts';
import { collect, readInputFile } from './cli-options.ts';
import { CERTIFICATE_SETTINGS } from './certificate-definition.ts';
import { flagOf, optionNameOf } from './setting-definition.ts';
import { certificateView } from './views.ts';

// The operations are loaded when a command runs: --help and the other commands do without them.
const certificates = () => import('./certificates.ts');

/** cert add | list | bind | unbind | remove */
export function registerCertificateCommands(root: Command, leaf: Leaf, run: Run): void {
  const cert = root.command('cert').description('verification certificates: keys that verify input JWTs');
  const add = leaf(cert, 'add <name>', 'trust an X.509 certificate or public key (PEM) for the given applications')
    .requiredOption('--file <pem>', 'the certificate or SPKI public key, PEM')
    .requiredOption('--app <client_id>', 'bind to this application (repeatable)', collect, []);
  for (const setting of CERTIFICATE_SETTINGS) add.option(`${flagOf(setting)} ${setting.arg}`, setting.help);
  add.action(run(async (ctx, [name], o) => {
    const settings: Record<string, unknown> = {};
    for (const setting of CERTIFICATE_SETTINGS) settings[setting.input] = o[optionNameOf(setting)];
    const input = { ...settings, name: name!, pem: readInputFile(o.file as string), clientIds: o.app as string[] };
    return { record: certificateView(await (await certificates()).addCertificate(ctx, input)) };
  }));
  leaf(cert, 'list', 'list verification certificates').action(run(async (ctx) => ({
    rows: (await (await certificates()).listAllCertificates(ctx)).map(certificateView),
    columns: ['name', 'kind', 'key', 'issuer', 'applications', 'expires_at', 'fingerprint'],
  })));
  leaf(cert, 'bind <name>', 'also verify JWTs for these applications with a stored certificate')
    .requiredOption('--app <client_id>', 'bind to this application (repeatable)', collect, [])
    .action(run(async (ctx, [name], o) => ({ record: certificateView(await (await certificates()).bindCertificateTo(ctx, name!, o.app as string[])) })));
  leaf(cert, 'unbind <name>', 'stop verifying JWTs for these applications with a certificate (it stays stored)')
    .requiredOption('--app <client_id>', 'unbind from this application (repeatable)', collect, [])
    .action(run(async (ctx, [name], o) => ({ record: certificateView(await (await certificates()).unbindCertificateFrom(ctx, name!, o.app as string[])) })));
  leaf(cert, 'remove <name>', 'stop trusting a certificate; refused while it is bound to applications, unless --force')
    .option('--force', 'remove it and its bindings although applications use it')
    .action(run(async (ctx, [name], o) => ({ record: certificateView(await (await certificates()).removeCertificate(ctx, name!, o.force === true)) })));
}
