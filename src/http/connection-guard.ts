import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.ts';

/** Share of the limit at which connections that hold a slot without using it are shed. */
const PRESSURE = 0.9;
/** How long a connection may hold a slot without a request being worked on, once there is pressure. */
const GRACE_MS = 1000;
const LOG_EVERY_MS = 10_000;

interface Slot {
  /** when the connection opened, or its last response ended: since then it has been waiting on its client */
  waitingSince: number;
  /** the request being received or answered, if any */
  request: IncomingMessage | null;
}

/**
 * Bounds the connections of one process, so that a flood can never use up its file descriptors.
 * Near the limit, connections that hold a slot while their client makes them wait are shed: those
 * that sent no request (or no complete next request on a kept-alive connection) for a second, and
 * those still trickling in a request body a second after its headers. A request whose body has
 * arrived is never shed: the server is working on it. At the limit, a new connection is closed at
 * once. It is taken and then closed rather than refused through server.maxConnections: in a
 * cluster, a refused connection goes back to the primary, which keeps it open and offers it to the
 * next worker, so a flood would pile up in the primary instead. Refused and shed connections are
 * logged at once, then at most every 10 s.
 */
export function guardConnections(server: Server, maxConnections: number, log: Logger, now: () => number = Date.now): void {
  const slots = new Map<Socket, Slot>();
  let refused = 0;
  let shed = 0;
  let lastShed = 0;
  let lastLog = -Infinity;

  const report = () => {
    if (now() - lastLog < LOG_EVERY_MS || (refused === 0 && shed === 0)) return;
    log.warn({ refused, shed, limit: maxConnections, open: slots.size }, 'too many connections: refusing new ones and shedding idle ones');
    refused = 0;
    shed = 0;
    lastLog = now();
  };
  const makingUsWait = (slot: Slot, at: number): boolean => {
    if (!slot.request) return at - slot.waitingSince >= GRACE_MS;
    return !slot.request.complete && at - slot.waitingSince >= GRACE_MS;
  };
  const shedWaiting = () => {
    const at = now();
    if (at - lastShed < GRACE_MS / 2) return;
    lastShed = at;
    for (const [socket, slot] of slots) {
      if (!makingUsWait(slot, at)) continue;
      socket.destroy();
      slots.delete(socket);
      shed++;
    }
  };

  server.on('connection', (socket: Socket) => {
    if (slots.size >= maxConnections * PRESSURE) shedWaiting();
    if (slots.size >= maxConnections) {
      socket.destroy();
      refused++;
    } else {
      slots.set(socket, { waitingSince: now(), request: null });
      socket.once('close', () => slots.delete(socket));
    }
    report();
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const slot = slots.get(request.socket);
    if (!slot) return;
    slot.request = request;
    slot.waitingSince = now();
    response.once('finish', () => {
      slot.request = null;
      slot.waitingSince = now();
    });
  });
  // what was refused or shed after the last line is logged once the interval has passed
  const timer = setInterval(report, LOG_EVERY_MS);
  timer.unref();
  server.once('close', () => clearInterval(timer));
}
