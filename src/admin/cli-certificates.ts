import type { Command } from 'commander';
import { addCertificate, listAllCertificates, removeCertificate } from './certificates.ts';
import type { Leaf, Run } from './cli.ts';
import { collect, readInputFile } from './cli-options.ts';
import { certificateView } from './views.ts';

/** cert add | list | remove */
export function registerCertificateCommands(root: Command, leaf: Leaf, run: Run): void {
  const cert = root.command('cert').description('verification certificates: keys that verify input JWTs');
  leaf(cert, 'add <name>', 'trust an X.509 certificate or public key (PEM) for the given applications')
    .requiredOption('--file <pem>', 'the certificate or SPKI public key, PEM')
    .option('--app <client_id>', 'bind to this application (repeatable)', collect, [])
    .option('--issuer <iss>', "also verify federated assertions with this iss (without it: only the applications' own private_key_jwt)")
    .option('--subject-prefix <prefix>', 'prepended to the sub of federated assertions')
    .action(run(async (ctx, [name], o) => {
      const pem = readInputFile(o.file as string);
      const input = { name: name!, pem, clientIds: o.app as string[], issuer: o.issuer as string | undefined, subjectPrefix: o.subjectPrefix as string | undefined };
      return { record: certificateView(await addCertificate(ctx, input)) };
    }));
  leaf(cert, 'list', 'list verification certificates').action(run(async (ctx) => ({
    rows: (await listAllCertificates(ctx)).map(certificateView),
    columns: ['name', 'kind', 'key', 'issuer', 'applications', 'expires_at', 'fingerprint'],
  })));
  leaf(cert, 'remove <name>', 'stop trusting a certificate').action(run(async (ctx, [name]) => ({ record: certificateView(await removeCertificate(ctx, name!)) })));
}
