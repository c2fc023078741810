import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.ts';

/** Share of the limit at which idle connections are shed to make room. */
const PRESSURE = 0.9;
/** A connection that has not started a request this long after opening counts as idle. */
const IDLE_AFTER_MS = 1000;
const LOG_EVERY_MS = 10_000;

/**
 * Bounds the connections of one process, so that a flood can never use up its file descriptors.
 * Near the limit, connections that hold a slot without using it are shed (those that opened and
 * sent no request for a second, and idle keep-alive ones); at the limit, a new connection is
 * closed at once. The connection is taken and then closed rather than refused through
 * server.maxConnections: in a cluster, a refused connection goes back to the primary, which keeps
 * it open and offers it to the next worker, so a flood would pile up in the primary instead.
 * Refused and shed connections are logged at once, then at most every 10 s.
 */
export function guardConnections(server: Server, maxConnections: number, log: Logger, now: () => number = Date.now): void {
  const opened = new Map<Socket, number>();
  const used = new WeakSet<Socket>();
  let refused = 0;
  let shed = 0;
  let lastShed = 0;
  let lastLog = -Infinity;

  const report = () => {
    if (now() - lastLog < LOG_EVERY_MS || (refused === 0 && shed === 0)) return;
    log.warn({ refused, shed, limit: maxConnections, open: opened.size }, 'too many connections: refusing new ones and shedding idle ones');
    refused = 0;
    shed = 0;
    lastLog = now();
  };
  const shedIdle = () => {
    if (now() - lastShed < IDLE_AFTER_MS / 2) return;
    lastShed = now();
    for (const [socket, at] of opened) {
      if (used.has(socket) || lastShed - at < IDLE_AFTER_MS) continue;
      socket.destroy();
      opened.delete(socket);
      shed++;
    }
    server.closeIdleConnections();
  };

  server.on('connection', (socket: Socket) => {
    if (opened.size >= maxConnections * PRESSURE) shedIdle();
    if (opened.size >= maxConnections) {
      socket.destroy();
      refused++;
    } else {
      opened.set(socket, now());
      socket.once('close', () => opened.delete(socket));
    }
    report();
  });
  server.on('request', (request: { socket: Socket }) => used.add(request.socket));
  // what was refused or shed after the last line is logged once the interval has passed
  const timer = setInterval(report, LOG_EVERY_MS);
  timer.unref();
  server.once('close', () => clearInterval(timer));
}
