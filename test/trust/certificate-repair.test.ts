import test from 'ava';
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareDatabase, runAdmin, tempDir, testConfig } from '../helpers/instance.ts';

test('a certificate an earlier version stored with its private key keeps only its public part after the next start', async (t) => {
  const dir = tempDir();
  try {
    const config = testConfig(dir);
    await prepareDatabase(config);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pub = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const file = join(dir, 'partner.pem');
    writeFileSync(file, pub);
    t.is((await runAdmin(config, ['app', 'create', 'partner', '--audiences', 'https://api.example'])).code, 0);
    t.is((await runAdmin(config, ['cert', 'add', 'partner-key', '--file', file, '--app', 'partner'])).code, 0);
    // what versions before the check stored for a file holding both blocks
    const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const sqlite = new Database(config.databaseFile);
    sqlite.prepare('UPDATE verification_certificates SET pem = ? WHERE name = ?').run(`${pub}${privatePem}`, 'partner-key');
    sqlite.close();

    await prepareDatabase(config);

    const check = new Database(config.databaseFile, { readonly: true });
    const row = check.prepare('SELECT pem FROM verification_certificates WHERE name = ?').get('partner-key') as { pem: string };
    check.close();
    t.is(row.pem, pub.trim());
    const audit = (await runAdmin(config, ['audit', 'list', '--json'])).json<{ action: string; details: { name?: string } }[]>();
    t.true(audit.some((e) => e.action === 'certificate.private_key_removed' && e.details.name === 'partner-key'));
    // the key still verifies: the certificate is listed and usable as before
    t.like((await runAdmin(config, ['cert', 'list', '--json'])).json<{ name: string; key: string }[]>()[0], { name: 'partner-key', key: 'EC P-256' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
