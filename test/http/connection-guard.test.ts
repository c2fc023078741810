import test from 'ava';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { capturingLogger, startInstance, tempDir } from '../helpers/instance.ts';
import { freePort, start, waitFor, waitReady } from '../helpers/process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens connections that never send a byte, `batch` at a time; resolves once each has connected or
 * been closed. Batches keep the flood at the workers: the cluster's primary hands each connection
 * on, and a thousand at once would run it out of files before any worker reached its limit (libuv
 * then closes what it cannot accept), which tests the kernel rather than the guard.
 */
async function idleConnections(port: number, count: number, batch = count): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let opened = 0; opened < count; opened += batch) {
    const settled: Promise<unknown>[] = [];
    for (let i = opened; i < Math.min(count, opened + batch); i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      sockets.push(socket);
      settled.push(Promise.race([once(socket, 'connect'), once(socket, 'close')]));
    }
    await Promise.all(settled);
  }
  return sockets;
}

test.serial('an idle-connection flood beyond every process\'s file limit leaves the cluster answering, and it says so in its log', async (t) => {
  const dir = tempDir();
  const port = await freePort();
  const env = { DATABASE_URL: `file:${join(dir, 'tokenmint.db')}`, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', ISSUER_URL: 'https://issuer.example' };
  // 256 files per process: the 1,000 connections below are far more than any process can hold
  const { child, output } = start(env, 'ulimit -n 256');
  const url = `http://127.0.0.1:${port}`;
  try {
    t.true(await waitReady(url), output().stderr);
    const sockets = await idleConnections(port, 1000, 50);
    await sleep(2000);
    for (const socket of sockets) socket.destroy();
    t.true(await waitFor(`${url}/healthz`, 5000), 'the server answers within 5 s after the flood ends');
    t.is((await fetch(`${url}/readyz`)).status, 200);
    t.regex(output().stdout, /too many connections: refusing new ones and shedding idle ones/);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Connections that send complete headers for a 32 KiB body, then one byte of it. */
async function slowBodies(port: number, count: number): Promise<Socket[]> {
  const sockets = await idleConnections(port, count);
  for (const socket of sockets) {
    socket.write('POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 32768\r\n\r\ng');
  }
  return sockets;
}

/** Connections that make one request, then start the next one's headers and stop. */
async function stalledKeepAlives(port: number, count: number): Promise<Socket[]> {
  const sockets = await idleConnections(port, count);
  await Promise.all(
    sockets.map((socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      return once(socket, 'data').then(() => socket.write('GET /healthz HTTP/1.1\r\nHo'));
    }),
  );
  return sockets;
}

for (const [name, flood] of [
  ['request bodies trickling in', slowBodies],
  ['kept-alive connections stalled in their next request', stalledKeepAlives],
  ['connections that never send a byte', idleConnections],
] as const) {
  test.serial(`at its connection limit a worker sheds ${name} to answer a new client`, async (t) => {
    const { startInstance } = await import('../helpers/instance.ts');
    const instance = await startInstance({ MAX_CONNECTIONS: '20' });
    let sockets: Socket[] = [];
    try {
      sockets = await flood(instance.serving.port, 20);
      // past the 1 s grace with a wide margin: on a loaded machine the requests' headers may be
      // parsed a few hundred milliseconds after they were written, and the grace counts from then
      await sleep(2000);
      const res = await fetch(`${instance.url}/healthz`, { signal: AbortSignal.timeout(3000) });
      t.is(res.status, 200);
      // a shed connection is closed by the server; this side notices once it has read the FIN
      const closed = Promise.all(sockets.map((s) => (s.destroyed ? undefined : once(s, 'close'))));
      await Promise.race([closed, sleep(3000)]);
      t.true(sockets.filter((s) => s.destroyed).length >= 19, 'the waiting connections were closed');
    } finally {
      // a failure above must be reported, not turned into a hang: closing waits for open connections
      for (const socket of sockets) socket.destroy();
      await instance.close();
    }
  });
}

test('an error of the listening server (an accept that failed, out of files) is logged once per 10 s, and serving goes on', async (t) => {
  const logs = capturingLogger('error');
  const instance = await startInstance({}, { log: logs.log });
  t.teardown(() => instance.close());
  const failure = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
  // unheard, the first would have been taken for a failure to listen and the second would end the process
  for (let i = 0; i < 3; i++) instance.serving.server.emit('error', failure);
  t.is((await fetch(`${instance.url}/healthz`)).status, 200);
  const lines = logs.text().split('\n').filter((line) => line.includes('the server could not accept a connection'));
  t.is(lines.length, 1);
  t.like(JSON.parse(lines[0]!), { errors: 1, err: { code: 'EMFILE' } });
});
