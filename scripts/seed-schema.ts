// npm run seed:schema — writes schema/seed.schema.json from the definitions the seed command validates with.
import { writeFileSync } from 'node:fs';
import { seedJsonSchema } from '../src/seed/definitions.ts';

const path = new URL('../schema/seed.schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(seedJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
