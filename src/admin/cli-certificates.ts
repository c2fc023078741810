import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { addCertificate, listAllCertificates, removeCertificate } from './certificates.ts';
import type { Leaf, Run } from './cli.ts';
import { AdminError } from './errors.ts';
import { certificateView } from './views.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

/** cert add | list | remove */
export function registerCertificateCommands(root: Command, leaf: Leaf, run: Run): void {
  const cert = root.command('cert').description('verification certificates: keys that verify input JWTs');
  leaf(cert, 'add <name>', 'trust an X.509 certificate or public key (PEM) for the given applications')
    .requiredOption('--file <pem>', 'the certificate or SPKI public key, PEM')
    .option('--app <client_id>', 'bind to this application (repeatable)', collect, [])
    .action(run(async (ctx, [name], o) => {
      let pem: string;
      try {
        pem = readFileSync(o.file as string, 'utf8');
      } catch {
        throw new AdminError(`cannot read ${o.file}`);
      }
      return { record: certificateView(await addCertificate(ctx, { name: name!, pem, clientIds: o.app as string[] })) };
    }));
  leaf(cert, 'list', 'list verification certificates').action(run(async (ctx) => ({
    rows: (await listAllCertificates(ctx)).map(certificateView),
    columns: ['name', 'kind', 'key', 'applications', 'expires_at', 'fingerprint'],
  })));
  leaf(cert, 'remove <name>', 'stop trusting a certificate').action(run(async (ctx, [name]) => ({ record: certificateView(await removeCertificate(ctx, name!)) })));
}
