import test from 'ava';
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KeyEncryptionKeyError } from '../src/keys/key-encryption-key.ts';
import { DatabaseUnavailableError, prepare } from '../src/prepare.ts';
import { serve } from '../src/serve.ts';
import { DatabaseFileError } from '../src/store/sqlite-file.ts';
import { corruptTable } from './helpers/database-faults.ts';
import { capturingLogger, runAdmin, tempDir, testConfig } from './helpers/instance.ts';

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

test('the database and its -wal and -shm files are created 0600 inside a 0755 directory, whatever the umask', async (t) => {
  const parent = tempDir();
  const dir = join(parent, 'data');
  mkdirSync(dir, { mode: 0o755 });
  const previous = process.umask(0o022);
  try {
    const config = testConfig(dir);
    const { log } = capturingLogger();
    const kek = await prepare(config, log);
    const serving = await serve(config, log, kek);
    try {
      for (const suffix of ['', '-wal', '-shm']) t.is(mode(`${config.databaseFile}${suffix}`), '600', `tokenmint.db${suffix}`);
      t.is(mode(join(dir, 'key-encryption-key')), '600');
    } finally {
      await serving.close();
    }
  } finally {
    process.umask(previous);
    rmSync(parent, { recursive: true, force: true });
  }
});

test('start-up warns when the database or the key-encryption key is readable by others', async (t) => {
  const dir = tempDir();
  try {
    const config = testConfig(dir);
    await prepare(config, capturingLogger().log);
    chmodSync(config.databaseFile, 0o644);
    chmodSync(join(dir, 'key-encryption-key'), 0o640);
    const { log, text } = capturingLogger();
    await prepare(config, log);
    t.regex(text(), /tokenmint\.db is readable by other users \(mode 0644\)/);
    t.regex(text(), /key-encryption-key is readable by other users \(mode 0640\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing key-encryption-key file is never replaced once keys are sealed with it: start-up names the file and says to restore it', async (t) => {
  const dir = tempDir();
  try {
    const config = testConfig(dir);
    await prepare(config, capturingLogger().log);
    const kekFile = join(dir, 'key-encryption-key');
    unlinkSync(kekFile);
    const error = await t.throwsAsync(prepare(config, capturingLogger().log), { instanceOf: KeyEncryptionKeyError });
    t.true(error!.message.includes(kekFile));
    t.regex(error!.message, /restore the file from the backup/);
    t.notRegex(error!.message, /KEY_ENCRYPTION_KEY is not/);
    t.false(existsSync(kekFile), 'no new key was generated');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a key-encryption key that does not open the sealed keys is blamed where it came from', async (t) => {
  const dir = tempDir();
  try {
    const config = testConfig(dir);
    await prepare(config, capturingLogger().log);
    const wrong = testConfig(dir, { KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') });
    await t.throwsAsync(prepare(wrong, capturingLogger().log), { message: /cannot be decrypted.*comes from KEY_ENCRYPTION_KEY/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty database created next to an existing key-encryption key is warned about loudly', async (t) => {
  const dir = tempDir();
  try {
    const config = testConfig(dir);
    await prepare(config, capturingLogger().log);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${config.databaseFile}${suffix}`, { force: true });
    const { log, text } = capturingLogger();
    await prepare(config, log);
    t.regex(text(), /A NEW, EMPTY DATABASE was created next to an existing key-encryption key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a PostgreSQL server that cannot be reached stops start-up with one error naming it, never its password', async (t) => {
  const config = testConfig(tempDir(), { DATABASE_URL: 'postgresql://tm:s3cret-pw@127.0.0.1:1/tokenmint', KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') });
  const error = await t.throwsAsync(prepare(config, capturingLogger().log), { instanceOf: DatabaseUnavailableError });
  t.regex(error!.message, /^cannot reach the PostgreSQL database postgresql:\/\/tm:\*\*\*@127\.0\.0\.1:1\/tokenmint: /);
  t.false(error!.message.includes('s3cret-pw'));
});

test('a corrupt database is refused at start with a clear error, and `check` reports the damage', async (t) => {
  const dir = tempDir();
  try {
    const config = testConfig(dir);
    await prepare(config, capturingLogger().log);
    for (const id of ['a', 'b', 'c']) t.is((await runAdmin(config, ['app', 'create', id, '--audiences', 'https://api.example'])).code, 0);
    t.like((await runAdmin(config, ['check', '--json'])).json(), { integrity: 'ok' });
    corruptTable(config.databaseFile, 'applications');
    const error = await t.throwsAsync(prepare(config, capturingLogger().log), { instanceOf: DatabaseFileError });
    t.regex(error!.message, /is corrupt .*restore it from a backup/);
    const check = await runAdmin(config, ['check']);
    t.is(check.code, 1);
    t.regex(check.stderr, /^error: the database .* is damaged: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
