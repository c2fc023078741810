import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MEMORY_REDUCER_FLAG, SERVING_FLAGS, servingExecArgv, YOUNG_GENERATION_FLAG } from '../src/heap-settings.ts';
import { ROOT } from './helpers/process.ts';

test('serving processes get the larger young generation and no memory reducer, unless the operator chose otherwise', (t) => {
  t.deepEqual(servingExecArgv([], ''), [YOUNG_GENERATION_FLAG, MEMORY_REDUCER_FLAG]);
  t.deepEqual(servingExecArgv(['--enable-source-maps'], '--no-warnings'), ['--enable-source-maps', YOUNG_GENERATION_FLAG, MEMORY_REDUCER_FLAG]);
  t.deepEqual(servingExecArgv(['--max-semi-space-size=8'], ''), ['--max-semi-space-size=8', MEMORY_REDUCER_FLAG]);
  t.deepEqual(servingExecArgv([], '--max_semi_space_size=64'), [MEMORY_REDUCER_FLAG]);
  t.deepEqual(servingExecArgv(['--memory-reducer'], ''), ['--memory-reducer', YOUNG_GENERATION_FLAG], 'the operator wants it back');
  t.deepEqual(servingExecArgv([], '--no_memory_reducer'), [YOUNG_GENERATION_FLAG]);
  // a flag that only begins alike is not a choice about the memory reducer
  t.deepEqual(servingExecArgv(['--memory-reducer-for-small-heaps'], ''), ['--memory-reducer-for-small-heaps', YOUNG_GENERATION_FLAG, MEMORY_REDUCER_FLAG]);
  t.deepEqual(servingExecArgv([...SERVING_FLAGS], ''), [...SERVING_FLAGS], 'npm start already gave them: not twice');
});

test('this Node.js accepts the flags', (t) => {
  // an unknown V8 flag ends node with "bad option" before it runs anything
  t.is(execFileSync(process.execPath, [...SERVING_FLAGS, '-e', 'process.stdout.write("ran")'], { encoding: 'utf8' }), 'ran');
});

test('npm start runs the server with it, and this Node.js accepts it and sizes the young generation by it', (t) => {
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  t.is(scripts.start, `node ${SERVING_FLAGS.join(' ')} scripts/start.js`);
  // the young generation (two semi-spaces) grows to its maximum once a process has allocated enough: its size then
  // shows the flag was read (Node.js 20 and 22 default to 16 MiB semi-spaces, 24 sizes them by the machine's memory)
  const youngGeneration = (flags: string[]) =>
    Number(
      execFileSync(process.execPath, [...flags, '-e', YOUNG_GENERATION_AFTER_ALLOCATING], { encoding: 'utf8' }),
    );
  const semiSpaceMiB = Number(YOUNG_GENERATION_FLAG.split('=')[1]);
  t.is(youngGeneration([YOUNG_GENERATION_FLAG]), 2 * semiSpaceMiB * 2 ** 20);
});

const YOUNG_GENERATION_AFTER_ALLOCATING = `
let kept = [];
for (let round = 0; round < 40; round++) { kept = []; for (let i = 0; i < 3e5; i++) kept.push({ i, s: 'x' + i }); }
process.stdout.write(String(require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));
`;
