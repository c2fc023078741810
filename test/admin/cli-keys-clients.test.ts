// A standard client across a rotation to another algorithm (RFC 9701 signed introspection answers).
import test from 'ava';
import * as oauth from 'oauth4webapi';
import { readKeyEncryptionKey } from '../../src/keys/key-encryption-key.ts';
import { scheduleKeyLifecycle } from '../../src/keys/schedule.ts';
import { createLogger } from '../../src/logger.ts';
import { basic, createApp, startInstance, TEST_ISSUER, untilPropagated } from '../helpers/instance.ts';

test('RFC 9701: a client that read the metadata before `keys rotate --alg ES256` still accepts the signed introspection answers after it', async (t) => {
  const instance = await startInstance({ SIGNING_ALG: 'RS256', KEY_PUBLISH_AHEAD: '4' });
  // the primary's schedule, as src/main.ts runs it
  const schedule = scheduleKeyLifecycle(instance.config, createLogger('silent'), readKeyEncryptionKey(instance.config.keyEncryptionKey, instance.config.dataDir).key);
  try {
    const secret = await createApp(instance, 'billing');
    const rsSecret = await createApp(instance, 'orders-api');
    // what openid-client's discovery() keeps for the life of its Configuration
    const metadata = (await (await fetch(`${instance.url}/.well-known/oauth-authorization-server`)).json()) as oauth.AuthorizationServer;
    const as: oauth.AuthorizationServer = { ...metadata, issuer: TEST_ISSUER };
    const rs: oauth.Client = { client_id: 'orders-api' };

    // the documented way: publish ahead, let the server promote it
    const rotated = await instance.admin('keys', 'rotate', '--alg', 'ES256', '--json');
    t.is(rotated.code, 0, rotated.stderr);
    const next = rotated.json<{ kid: string; promote_at: string }>();
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(next.promote_at) - Date.now()) + 1000));
    const listed = await untilPropagated(
      async () => (await instance.admin('keys', 'list', '--json')).json<{ kid: string; state: string }[]>(),
      (keys) => keys.some((k) => k.kid === next.kid && k.state === 'active'),
      10_000,
    );
    t.true(listed.some((k) => k.kid === next.kid && k.state === 'active'), 'promoted by the schedule');
    await new Promise((r) => setTimeout(r, 500));

    const issued = (await (await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('billing', secret) })).json()) as { access_token: string };
    const response = await instance.post('/introspect', { token: issued.access_token }, { authorization: basic('orders-api', rsSecret), accept: 'application/token-introspection+jwt' });
    t.is(response.status, 200);
    t.is(JSON.parse(Buffer.from((await response.clone().text()).split('.')[0]!, 'base64url').toString()).alg, 'ES256');
    const answer = await oauth.processIntrospectionResponse(as, rs, response).catch((error: Error) => error);
    t.false(answer instanceof Error, `refused: ${(answer as Error).message} (metadata listed ${JSON.stringify(metadata.introspection_signing_alg_values_supported)})`);
  } finally {
    await schedule.stop();
    await instance.close();
  }
});
