// One definition per object kind: every setting of a kind is a flag of its CLI command and a key of
// its seed-file entry (and so of the JSON Schema), and export writes it.
import test from 'ava';
import { APPLICATION_SETTINGS } from '../../src/admin/application-definition.ts';
import { CERTIFICATE_SETTINGS } from '../../src/admin/certificate-definition.ts';
import { JWKS_SOURCE_SETTINGS } from '../../src/admin/jwks-source-definition.ts';
import { POLICY_SETTINGS } from '../../src/admin/policy-definition.ts';
import { SERVICE_ACCOUNT_SETTINGS } from '../../src/admin/service-account-definition.ts';
import { seedJsonSchema } from '../../src/seed/definitions.ts';
import { flagOf } from '../../src/admin/setting-definition.ts';
import { runAdmin, tempDir, testConfig } from '../helpers/instance.ts';

const KINDS = [
  { list: 'applications', commands: [['app', 'create'], ['app', 'update']], keys: APPLICATION_SETTINGS.map((s) => s.key) },
  { list: 'service_accounts', commands: [['service-account', 'update']], keys: SERVICE_ACCOUNT_SETTINGS.map((s) => s.key) },
  { list: 'certificates', commands: [['cert', 'add']], keys: CERTIFICATE_SETTINGS.map((s) => s.key) },
  { list: 'jwks_sources', commands: [['jwks', 'add']], keys: JWKS_SOURCE_SETTINGS.map((s) => s.key) },
  { list: 'policies', commands: [['policy', 'add']], keys: POLICY_SETTINGS.map((s) => s.key) },
];

const config = testConfig(tempDir());

for (const kind of KINDS) {
  test(`${kind.list}: every setting of the definition is a CLI flag and a seed-file key`, async (t) => {
    const schema = seedJsonSchema() as { properties: Record<string, { items: { properties: Record<string, unknown> } }> };
    const seedKeys = Object.keys(schema.properties[kind.list]!.items.properties);
    for (const key of kind.keys) t.true(seedKeys.includes(key), `${kind.list}: seed key ${key}`);
    for (const command of kind.commands) {
      const help = await runAdmin(config, [...command, '--help']);
      for (const key of kind.keys) t.true(help.stdout.includes(`${flagOf({ key })} `), `${command.join(' ')}: --${key}`);
    }
  });
}
