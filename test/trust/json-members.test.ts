import test from 'ava';
import { findDuplicateMember, inspectJson } from '../../src/trust/json-members.ts';

const cases: [string, string | null][] = [
  ['{"a":1,"b":2}', null],
  ['{"a":1,"a":2}', 'a'],
  ['{"sub":"x","nested":{"sub":"y"}}', null],
  ['{"n":{"k":1,"k":2}}', 'k'],
  ['{"a":[{"x":1},{"x":2}],"b":"a"}', null],
  ['{"a":"\\"a\\"","\\"a\\"":1}', null],
  ['{"\\u0061":1,"a":2}', 'a'],
  ['{"a":"{\\"a\\":1}","b":1}', null],
  ['{ "a" : 1 , "a" : 2 }', 'a'],
  ['[{"a":1},{"a":1}]', null],
  ['{"arr":[1,2,{"z":0,"z":1}]}', 'z'],
];

for (const [json, expected] of cases) {
  test(`${json} → ${expected ?? 'no duplicate'}`, (t) => {
    JSON.parse(json);
    t.is(findDuplicateMember(json), expected);
  });
}

const depths: [string, number][] = [
  ['{}', 1],
  ['{"a":1}', 1],
  ['{"a":{"b":[1,{"c":2}]}}', 4],
  ['{"a":"{[{[{[","b":[]}', 2],
  ['[[[[[[[[[[1]]]]]]]]]]', 10],
];

for (const [json, depth] of depths) {
  test(`${json} nests ${depth} deep`, (t) => {
    JSON.parse(json);
    t.is(inspectJson(json).depth, depth);
  });
}

test('a text nested 100,000 levels deep is measured without overflowing the stack', (t) => {
  const json = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  t.is(inspectJson(json).depth, 100_000);
});
