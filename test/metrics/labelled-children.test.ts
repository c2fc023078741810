import test from 'ava';
import { LabelledChildren, OTHER } from '../../src/metrics/labelled-children.ts';

test('one child per label set, made once and found again', (t) => {
  const made: string[][] = [];
  const children = new LabelledChildren(3, (values) => (made.push(values), { values }));
  const a = children.get('client_credentials', 'client_secret_basic', 'issued');
  t.is(children.get('client_credentials', 'client_secret_basic', 'issued'), a);
  t.not(children.get('client_credentials', 'client_secret_basic', 'invalid_client'), a);
  t.not(children.get('client_credentials', 'client_secret_post', 'issued'), a);
  t.deepEqual(made, [
    ['client_credentials', 'client_secret_basic', 'issued'],
    ['client_credentials', 'client_secret_basic', 'invalid_client'],
    ['client_credentials', 'client_secret_post', 'issued'],
  ]);
});

test('label sets that only differ in where one value ends and the next begins stay apart', (t) => {
  const children = new LabelledChildren(2, (values) => values.join('|'));
  t.is(children.get('a', 'bc'), 'a|bc');
  t.is(children.get('ab', 'c'), 'ab|c');
});

test('past its limit, new label sets share the all-other child; known ones keep their own', (t) => {
  const made: string[][] = [];
  const children = new LabelledChildren(2, (values) => (made.push(values), values.join('|')), 3);
  for (const source of ['a', 'b', 'c']) children.get(source, 'success');
  for (let i = 0; i < 100; i++) t.is(children.get(`garbage-${i}`, 'success'), `${OTHER}|${OTHER}`);
  t.is(children.get('b', 'success'), 'b|success');
  t.is(made.length, 4);
});
