// Imported first by every entry point: Prisma's query compiler is a large WebAssembly module, and
// V8's optimising compiler working through all of it costs a server process about half a second of
// start-up and an admin command a third of its time. Queries are off the token path (it is served
// from caches), so the baseline compiler's code is fast enough for them.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
