#!/usr/bin/env node
// The tokenmint executable: the admin CLI of scripts/admin.ts, built to dist/ (`npx tokenmint app list --json`).
// Its stdout carries only the command's output; diagnostics (and a build's messages) go to stderr.
import { realpathSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIfStale } from '../scripts/build.js';

// run through a symlink (node_modules/.bin/tokenmint), the CLI is found beside the real file
const self = pathToFileURL(realpathSync(fileURLToPath(import.meta.url)));
try {
  await buildIfStale();
} catch (error) {
  console.error(`tokenmint: ${error.message}`);
  process.exit(1);
}
// Node.js 22.1 and later keep V8's compiled code of the bundle between commands (about a tenth of a
// command's time), beside the build it was made from; Node.js 20 has no such cache
module.enableCompileCache?.(fileURLToPath(new URL('../dist/.compile-cache', self)));
await import(new URL('../dist/scripts/admin.js', self).href);
