import test from 'ava';
import { formatRecord, formatTable } from '../../src/admin/output.ts';

test('control characters in stored text are escaped, so they cannot forge lines or reach the terminal', (t) => {
  const hostile = 'x\n2026-11-23T09:00:00.000Z  token.issued  success\u001b]52;c;aGk=\u0007';
  for (const text of [formatRecord({ client_id: hostile }), formatTable([{ client_id: hostile }], ['client_id'])]) {
    t.false(/[\u0000-\u001f\u007f-\u009f]/.test(text.replace(/\n(?=CLIENT_ID|x)/g, '')), text);
    t.true(text.includes('\\u000a'));
    t.true(text.includes('\\u001b'));
  }
});

test('records align their values and tables name their columns', (t) => {
  t.is(formatRecord({ a: 1, long_name: ['x', 'y'], none: null }), 'a:         1\nlong_name: x,y\nnone:      -');
  t.is(formatTable([{ id: 'p1', status: 'active' }], ['id', 'status']), 'ID  STATUS\np1  active');
  t.is(formatTable([], ['id']), '(none)');
});
