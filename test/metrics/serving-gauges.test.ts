import test from 'ava';
import Database from 'better-sqlite3';
import { ExternalIssuer } from '../helpers/external-issuer.ts';
import { basic, createApp, startInstance, untilPropagated, type Instance } from '../helpers/instance.ts';
import { samples, sampleValue, scrape } from '../helpers/metrics.ts';

// The gauges read the state of the last server started in the process: one server for the file.
let instance: Instance;

test.before(async () => {
  instance = await startInstance({ ARGON2_MAX_CONCURRENT: '1', JWKS_ALLOW_PRIVATE_NETWORKS: 'true', JWKS_REFRESH_COOLDOWN_SECONDS: '1' });
});
test.after.always(() => instance?.close());

const activeKid = async () => (await instance.admin('keys', 'list', '--json')).json<{ kid: string; state: string }[]>().find((k) => k.state === 'active')!.kid;
const keyAges = (text: string) => samples(text).filter((s) => s.name === 'tokenmint_signing_key_age_seconds');

test.serial('the active signing key\'s age, labelled with its kid; after a rotation, the new key\'s', async (t) => {
  const first = await activeKid();
  const ages = keyAges(await scrape(instance.url));
  t.deepEqual(ages.map((s) => s.labels), [{ kid: first }]);
  t.true(ages[0]!.value >= 0 && ages[0]!.value < 3600, String(ages[0]!.value));
  const rotated = await instance.admin('keys', 'rotate', '--now', '--json');
  t.is(rotated.code, 0, rotated.stderr);
  const next = await activeKid();
  t.not(next, first);
  const after = await untilPropagated(async () => keyAges(await scrape(instance.url)), (s) => s[0]?.labels.kid === next, 3000);
  t.deepEqual(after.map((s) => s.labels), [{ kid: next }]);
});

test.serial('the admin state version the server has loaded follows admin changes', async (t) => {
  const stored = () => {
    const sqlite = new Database(instance.config.databaseFile, { readonly: true });
    try {
      return (sqlite.prepare('SELECT version FROM state_version WHERE id = 1').get() as { version: number }).version;
    } finally {
      sqlite.close();
    }
  };
  const loaded = async () => sampleValue(await scrape(instance.url), 'tokenmint_admin_state_version');
  const before = await untilPropagated(loaded, (v) => v === stored(), 3000);
  t.is(before, stored());
  await createApp(instance, 'versioned');
  t.true(stored() > before!);
  t.is(await untilPropagated(loaded, (v) => v === stored(), 3000), stored());
});

test.serial('the argon2 queue depth, by lane, while guesses wait for the one argon2 thread', async (t) => {
  const secret = await createApp(instance, 'queued');
  const depth = (text: string, lane: string) => sampleValue(text, 'tokenmint_argon2_queue_depth', { lane });
  let outstanding = true;
  const guesses = Promise.all(Array.from({ length: 12 }, (_, i) => instance.token({ grant_type: 'client_credentials' }, { authorization: basic('queued', `${secret.slice(0, -4)}AAA${i.toString(16)}`) }))).finally(() => (outstanding = false));
  let deepest = 0;
  while (outstanding) deepest = Math.max(deepest, depth(await scrape(instance.url), 'normal') ?? 0);
  t.deepEqual((await guesses).map((r) => r.status), Array(12).fill(401));
  t.true(deepest >= 1, `deepest queue seen: ${deepest}`);
  const idle = await scrape(instance.url);
  t.is(depth(idle, 'normal'), 0);
  t.is(depth(idle, 'priority'), 0);
});

test.serial('the age of a JWKS source\'s keys grows, and starts again when they are fetched anew', async (t) => {
  const external = await ExternalIssuer.start({ issuer: 'https://ci.example' });
  try {
    for (const argv of [
      ['app', 'create', 'ci-jobs', '--grants', 'jwt-bearer', '--audiences', 'https://api.example'],
      ['jwks', 'add', 'ci', '--url', external.jwksUrl, '--issuer', external.issuer, '--app', 'ci-jobs'],
    ]) {
      const run = await instance.admin(...argv);
      t.is(run.code, 0, run.stderr);
    }
    const age = async () => sampleValue(await scrape(instance.url), 'tokenmint_jwks_keys_age_seconds', { source: 'ci' });
    const first = await untilPropagated(age, (v) => v !== undefined, 3000);
    t.true(first !== undefined && first < 60, String(first));
    await new Promise((r) => setTimeout(r, 1500));
    const older = (await age())!;
    t.true(older >= first! + 1.5, `${first} then ${older}`);
    await external.rotate();
    t.is((await instance.token({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await external.sign() })).status, 200);
    t.true((await age())! < older, 'fetched anew for the unknown kid');
  } finally {
    await external.close();
  }
});
