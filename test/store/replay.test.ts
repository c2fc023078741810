import test from 'ava';
import { rmSync } from 'node:fs';
import { createLogger } from '../../src/logger.ts';
import { prepare } from '../../src/prepare.ts';
import { createPrisma } from '../../src/store/prisma.ts';
import { purgeUsedAssertions, recordFirstUse } from '../../src/store/replay.ts';
import { tempDir, testConfig } from '../helpers/instance.ts';

const dir = tempDir();
const config = testConfig(dir);
test.before(() => prepare(config, createLogger('silent')));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('the first use of an (iss, jti) wins and every later one is refused', async (t) => {
  const db = await createPrisma(config.databaseFile);
  try {
    const exp = new Date(Date.now() + 60_000);
    t.true(await recordFirstUse(db, 'https://a.example', 'j1', exp));
    t.false(await recordFirstUse(db, 'https://a.example', 'j1', exp));
    t.true(await recordFirstUse(db, 'https://b.example', 'j1', exp), 'the same jti from another issuer is another assertion');
  } finally {
    await db.$disconnect();
  }
});

test('of many concurrent uses through separate connections, exactly one wins', async (t) => {
  const clients = await Promise.all(Array.from({ length: 6 }, () => createPrisma(config.databaseFile)));
  try {
    const exp = new Date(Date.now() + 60_000);
    const results = await Promise.all(clients.flatMap((db) => [recordFirstUse(db, 'https://race.example', 'once', exp), recordFirstUse(db, 'https://race.example', 'once', exp)]));
    t.is(results.filter(Boolean).length, 1);
  } finally {
    await Promise.all(clients.map((db) => db.$disconnect()));
  }
});

test('expired records are purged', async (t) => {
  const db = await createPrisma(config.databaseFile);
  try {
    t.true(await recordFirstUse(db, 'https://old.example', 'gone', new Date(Date.now() - 1000)));
    t.true((await purgeUsedAssertions(db, new Date())) >= 1);
    t.true(await recordFirstUse(db, 'https://old.example', 'gone', new Date(Date.now() + 1000)));
  } finally {
    await db.$disconnect();
  }
});
