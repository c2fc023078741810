import test from 'ava';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import type { SigningAlg } from '../../src/config.ts';
import { ELLIPTIC_CURVE_SIGNATURES_PER_MESSAGE, JwsSigner, rsaThreadsPerProcess } from '../../src/keys/sign.ts';
import { keyHandle, SIGNING_THREAD_SOURCE, SigningThreads, type KeyHandle } from '../../src/keys/signing-threads.ts';
import { tempDir } from '../helpers/instance.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function keyPair(alg: SigningAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

const ecHandle = (privateKey: KeyObject): KeyHandle => keyHandle({ digest: 'sha256', input: { key: privateKey, dsaEncoding: 'ieee-p1363' } });

function verifies(publicKey: KeyObject, data: string, signature: string): boolean {
  return verify('sha256', Buffer.from(data), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
}

for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA'] as const) {
  test(`${alg}: tokens asked for in one turn each carry their own claims and a valid signature`, async (t) => {
    const { privateKey, publicKey } = keyPair(alg);
    const signer = new JwsSigner({ kid: `k-${alg}`, alg, key: privateKey });
    const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => signer.sign('at+jwt', { n: i, sub: `s${i}` })));
    for (const [i, token] of tokens.entries()) {
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, { algorithms: [alg], typ: 'at+jwt' });
      t.is(payload.n, i);
      t.is(payload.sub, `s${i}`);
      t.is(protectedHeader.kid, `k-${alg}`);
    }
  });
}

test('RS256 batches spread over two threads still answer each request with its own key and claims', async (t) => {
  const pairs = [keyPair('RS256'), keyPair('RS256')];
  const signers = pairs.map((p, i) => new JwsSigner({ kid: `rsa-${i}`, alg: 'RS256', key: p.privateKey }));
  const asked: Promise<string>[] = [];
  // several turns of the event loop, so that the second thread is used while the first is busy
  for (let turn = 0; turn < 6; turn++) {
    for (let i = 0; i < 8; i++) asked.push(signers[i % 2]!.sign('at+jwt', { turn, i }));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const tokens = await Promise.all(asked);
  for (const [at, token] of tokens.entries()) {
    const kid = decodeProtectedHeader(token).kid!;
    const { payload } = await jwtVerify(token, pairs[Number(kid.slice(4))]!.publicKey, { algorithms: ['RS256'] });
    t.deepEqual([payload.turn, payload.i], [Math.floor(at / 8), at % 8]);
    t.is(kid, `rsa-${at % 2}`);
  }
});

/** A thread that answers every entry of a batch with its own thread id instead of a signature. */
const THREAD_ID_SOURCE = `
const { parentPort, threadId } = require('node:worker_threads');
parentPort.on('message', ({ number, batch }) => parentPort.postMessage({ number, signatures: new Array(batch.length / 2).fill(String(threadId)) }));
`;

test('the signatures of one turn are shared among all the threads, in order, one part each', async (t) => {
  const threads = new SigningThreads(2, THREAD_ID_SOURCE);
  t.teardown(() => threads.close());
  const handle = ecHandle(keyPair('ES256').privateKey);
  const signers = await Promise.all(Array.from({ length: 7 }, (_, i) => threads.sign(handle, `entry ${i}`)));
  t.is(threads.running, 2);
  const [first, second] = [signers[0]!, signers[6]!];
  t.not(first, second);
  t.deepEqual(signers, [first, first, first, first, second, second, second]);
  // a turn with one signature needs one thread: the idle one takes it
  const alone = await threads.sign(handle, 'alone');
  t.true([first, second].includes(alone));
  t.is(threads.running, 2);
});

test('a pool limited to one thread gives it the whole turn; a limit under one is refused', async (t) => {
  const threads = new SigningThreads(2, THREAD_ID_SOURCE);
  t.teardown(() => threads.close());
  threads.setLimit(1);
  t.is(threads.limit, 1);
  const handle = ecHandle(keyPair('ES256').privateKey);
  const signers = await Promise.all(Array.from({ length: 6 }, (_, i) => threads.sign(handle, `entry ${i}`)));
  t.is(new Set(signers).size, 1);
  t.is(threads.running, 1);
  t.throws(() => threads.setLimit(0), { instanceOf: RangeError });
  t.is(threads.limit, 1);
});

/** A thread that answers every entry of a batch with the number of entries its message carried. */
const MESSAGE_SIZE_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ number, batch }) => parentPort.postMessage({ number, signatures: new Array(batch.length / 2).fill(String(batch.length / 2)) }));
`;

test('a pool that caps its messages sends a full one at once, mid-turn, and the rest of the turn at its end', async (t) => {
  const threads = new SigningThreads(1, MESSAGE_SIZE_SOURCE, 3);
  t.teardown(() => threads.close());
  const handle = ecHandle(keyPair('ES256').privateKey);
  const asked = [threads.sign(handle, 'a'), threads.sign(handle, 'b')];
  // under the cap: nothing leaves before the turn ends
  t.is(threads.running, 0);
  asked.push(threads.sign(handle, 'c'));
  t.is(threads.running, 1);
  for (let i = 0; i < 5; i++) asked.push(threads.sign(handle, `d${i}`));
  t.deepEqual(await Promise.all(asked), ['3', '3', '3', '3', '3', '3', '2', '2']);
  t.throws(() => new SigningThreads(1, MESSAGE_SIZE_SOURCE, 0), { instanceOf: RangeError });
});

test('ES256 signatures of a busy turn, in capped messages, each still sign their own claims', async (t) => {
  const { privateKey, publicKey } = keyPair('ES256');
  const handle = ecHandle(privateKey);
  const threads = new SigningThreads(1, SIGNING_THREAD_SOURCE, ELLIPTIC_CURVE_SIGNATURES_PER_MESSAGE);
  t.teardown(() => threads.close());
  const data = Array.from({ length: 4 * ELLIPTIC_CURVE_SIGNATURES_PER_MESSAGE + 1 }, (_, i) => Buffer.from(JSON.stringify({ i })).toString('base64url'));
  const signatures = await Promise.all(data.map((d) => threads.sign(handle, d)));
  for (const [i, signature] of signatures.entries()) t.true(verifies(publicKey, data[i]!, signature), `signature ${i}`);
  t.false(verifies(publicKey, data[0]!, signatures[1]!));
});

test('RSA threads per serving process: the cores shared among the processes, never none and never over four', (t) => {
  t.is(rsaThreadsPerProcess(2, 1), 2);
  t.is(rsaThreadsPerProcess(2, 2), 1);
  t.is(rsaThreadsPerProcess(8, 2), 4);
  t.is(rsaThreadsPerProcess(8, 3), 2);
  t.is(rsaThreadsPerProcess(2, 4), 1);
  t.is(rsaThreadsPerProcess(64, 1), 4);
  t.is(rsaThreadsPerProcess(64, 8), 4);
});

test('warming up starts every thread with the key before any signature is asked for', async (t) => {
  const threads = new SigningThreads(2, THREAD_ID_SOURCE);
  t.teardown(() => threads.close());
  t.is(threads.running, 0);
  await threads.warmUp(ecHandle(keyPair('ES256').privateKey));
  t.is(threads.running, 2);
});

test('a JWS signer warmed up signs as before', async (t) => {
  const { privateKey, publicKey } = keyPair('RS256');
  const signer = new JwsSigner({ kid: 'warm', alg: 'RS256', key: privateKey });
  await signer.warmUp();
  const { payload } = await jwtVerify(await signer.sign('at+jwt', { sub: 'after' }), publicKey, { algorithms: ['RS256'] });
  t.is(payload.sub, 'after');
});

test('more keys than a thread holds at once, in one batch and across batches: each signature is made with its own key', async (t) => {
  const threads = new SigningThreads(1);
  t.teardown(() => threads.close());
  const pairs = Array.from({ length: 12 }, () => keyPair('ES256'));
  const handles = pairs.map((p) => ecHandle(p.privateKey));
  for (let round = 0; round < 3; round++) {
    // round 0: all twelve in one batch; later rounds: one key per batch, so that the oldest are let go and sent again
    const signatures = round === 0 ? await Promise.all(handles.map((h, i) => threads.sign(h, `round ${round} key ${i}`))) : [];
    if (round > 0) for (const [i, h] of handles.entries()) signatures.push(await threads.sign(h, `round ${round} key ${i}`));
    for (const [i, signature] of signatures.entries()) {
      t.true(verifies(pairs[i]!.publicKey, `round ${round} key ${i}`, signature), `round ${round} key ${i}`);
      t.false(verifies(pairs[(i + 1) % 12]!.publicKey, `round ${round} key ${i}`, signature));
    }
  }
});

test('a signature that fails is refused alone; the others of its batch are made', async (t) => {
  const threads = new SigningThreads(1);
  t.teardown(() => threads.close());
  const good = keyPair('ES256');
  // an Ed25519 key cannot sign with a SHA-256 digest
  const wrong = keyHandle({ digest: 'sha256', input: keyPair('EdDSA').privateKey });
  const handle = ecHandle(good.privateKey);
  const results = await Promise.allSettled([threads.sign(handle, 'one'), threads.sign(wrong, 'two'), threads.sign(handle, 'three')]);
  t.is(results[0]!.status, 'fulfilled');
  t.is(results[1]!.status, 'rejected');
  t.regex(String((results[1] as PromiseRejectedResult).reason), /signing failed/);
  t.true(verifies(good.publicKey, 'three', (results[2] as PromiseFulfilledResult<string>).value));
});

test('a thread that dies fails the signatures it held, and the next batch goes to a new thread', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, 'died-once');
  // the first thread to receive a batch exits; its replacement finds the marker and signs
  const source = `
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');
if (!fs.existsSync(${JSON.stringify(marker)})) parentPort.once('message', () => { fs.writeFileSync(${JSON.stringify(marker)}, ''); process.exit(3); });
else { ${SIGNING_THREAD_SOURCE} }`;
  const threads = new SigningThreads(1, source);
  t.teardown(() => threads.close());
  const { privateKey, publicKey } = keyPair('ES256');
  const handle = ecHandle(privateKey);
  const first = await Promise.allSettled([threads.sign(handle, 'a'), threads.sign(handle, 'b')]);
  t.deepEqual(
    first.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  t.regex(String((first[0] as PromiseRejectedResult).reason), /signing thread exited/);
  const signature = await threads.sign(handle, 'c');
  t.true(verifies(publicKey, 'c', signature));
});

test('a batch that cannot be sent (a key that cannot be copied to the thread) is refused, and later batches are answered correctly', async (t) => {
  const threads = new SigningThreads(1);
  t.teardown(() => threads.close());
  const { privateKey, publicKey } = keyPair('ES256');
  const uncopyable = keyHandle({ digest: 'sha256', input: new Proxy(privateKey, {}) });
  await t.throwsAsync(threads.sign(uncopyable, 'a'), { message: /could not be cloned/ });
  const handle = ecHandle(privateKey);
  const [b, c] = await Promise.all([threads.sign(handle, 'b'), threads.sign(handle, 'c')]);
  t.true(verifies(publicKey, 'b', b));
  t.true(verifies(publicKey, 'c', c));
  t.true(verifies(publicKey, 'd', await threads.sign(handle, 'd')));
});

test('closing refuses the signatures still outstanding, those asked for in the same turn, and any asked for later', async (t) => {
  const threads = new SigningThreads(2);
  const { privateKey } = keyPair('RS256');
  const handle = keyHandle({ digest: 'sha256', input: privateKey });
  const sent = Array.from({ length: 20 }, (_, i) => threads.sign(handle, String(i)));
  await new Promise((resolve) => setImmediate(resolve));
  const sameTurn = threads.sign(handle, 'same turn');
  await threads.close();
  const results = await Promise.allSettled(sent);
  t.true(results.some((r) => r.status === 'rejected' && /closed/.test(String(r.reason))));
  await t.throwsAsync(sameTurn, { message: /closed/ });
  await t.throwsAsync(threads.sign(handle, 'later'), { message: /closed/ });
});

test('a process waits for its outstanding signature, and exits once nothing else is left to do', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = `
import { generateKeyPairSync } from 'node:crypto';
import { JwsSigner } from ${JSON.stringify(join(root, 'src/keys/sign.ts'))};
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const token = await new JwsSigner({ kid: 'k', alg: 'ES256', key: privateKey }).sign('at+jwt', { hello: 'world' });
console.log(JSON.stringify({ token, jwk: publicKey.export({ format: 'jwk' }) }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, timeout: 60_000 });
  const { token, jwk } = JSON.parse(stdout) as { token: string; jwk: Record<string, string> };
  t.is(decodeJwt(token).hello, 'world');
  await t.notThrowsAsync(jwtVerify(token, await importJWK({ ...jwk, alg: 'ES256' }), { algorithms: ['ES256'] }));
});
