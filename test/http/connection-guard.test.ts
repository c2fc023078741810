import test from 'ava';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../helpers/instance.ts';
import { freePort, start, waitFor, waitReady } from '../helpers/process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens connections that never send a byte; resolves once each has connected or been closed. */
async function idleConnections(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const settled: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    sockets.push(socket);
    settled.push(Promise.race([once(socket, 'connect'), once(socket, 'close')]));
  }
  await Promise.all(settled);
  return sockets;
}

test('an idle-connection flood beyond every process\'s file limit leaves the cluster answering, and it says so in its log', async (t) => {
  const dir = tempDir();
  const port = await freePort();
  const env = { DATABASE_URL: `file:${join(dir, 'tokenmint.db')}`, PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', ISSUER_URL: 'https://issuer.example' };
  // 256 files per process: the 1,000 connections below are far more than any process can hold
  const { child, output } = start(env, 'ulimit -n 256');
  const url = `http://127.0.0.1:${port}`;
  try {
    t.true(await waitReady(url), output().stderr);
    const sockets = await idleConnections(port, 1000);
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
