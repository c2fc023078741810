import test from 'ava';
import { basic, createApp, startInstance } from './helpers/instance.ts';

async function auditedIp(trustProxy: string, forwardedFor: string): Promise<string | undefined> {
  const instance = await startInstance({ TRUST_PROXY: trustProxy });
  try {
    const secret = await createApp(instance, 'proxied');
    await instance.token({ grant_type: 'client_credentials' }, { authorization: basic('proxied', secret), 'x-forwarded-for': forwardedFor });
    await instance.serving.deps.writer.flush();
    const events = (await instance.admin('audit', 'list', '--json')).json<{ action: string; ip: string }[]>();
    return events.find((e) => e.action === 'token.issued')?.ip;
  } finally {
    await instance.close();
  }
}

test('without TRUST_PROXY, X-Forwarded-For is ignored', async (t) => {
  t.regex((await auditedIp('false', '6.6.6.6')) ?? '', /127\.0\.0\.1/);
});

test('with TRUST_PROXY=1, only the address our proxy appended counts, not ones the caller invented', async (t) => {
  t.is(await auditedIp('1', '6.6.6.6, 203.0.113.7'), '203.0.113.7');
});
