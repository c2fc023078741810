#!/usr/bin/env node
// The tokenmint executable: the admin CLI of scripts/admin.ts (`npx tokenmint app list --json`).
// Its stdout carries only the command's output; diagnostics go to stderr.
import { realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

// run through a symlink (node_modules/.bin/tokenmint), the script is found beside the real file
const self = pathToFileURL(realpathSync(fileURLToPath(import.meta.url)));
register();
await import(new URL('../scripts/admin.ts', self).href);
