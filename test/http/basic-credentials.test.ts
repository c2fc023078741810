import test from 'ava';
import { decodeBasic } from '../../src/http/basic-credentials.ts';
import { OAuthError } from '../../src/errors.ts';

const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

test('Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1)', (t) => {
  t.deepEqual(decodeBasic(header('my%20app:s%3Acret+x')), { clientId: 'my app', secret: 's:cret x' });
  t.deepEqual(decodeBasic(`basic  ${Buffer.from('a:b').toString('base64')} `), { clientId: 'a', secret: 'b' });
  t.deepEqual(decodeBasic(header('app:')), { clientId: 'app', secret: '' });
});

test('a malformed Basic header is invalid_request, never a crash', (t) => {
  for (const bad of ['Bearer abc', 'Basic', 'Basic !!!', header('no-colon'), header(':secret'), header('%E0%A4%A:x')]) {
    const error = t.throws(() => decodeBasic(bad), { instanceOf: OAuthError }, bad);
    t.is(error?.error, 'invalid_request', bad);
  }
});
