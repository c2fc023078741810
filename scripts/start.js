// npm start: brings dist/ up to date (scripts/build.js, a few milliseconds when it is), then runs the
// server from it in this same process. Plain JavaScript, so that it runs before anything is built.
// The cluster's workers run dist/src/main.js directly (src/main.ts sets that up).
import { buildIfStale } from './build.js';

try {
  await buildIfStale();
} catch (error) {
  console.error(`tokenmint: ${error.message}`);
  process.exit(1);
}
await import('../dist/src/main.js');
