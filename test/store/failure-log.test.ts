import test from 'ava';
import { FailureLog } from '../../src/store/failure-log.ts';
import { capturingLogger } from '../helpers/instance.ts';

const lines = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

test('a poll failing every half second for two minutes logs a line a minute, then one when it works again', (t) => {
  const { log, text } = capturingLogger('info');
  const failures = new FailureLog(log, 'reading the state version failed');
  const start = 1_000_000;
  for (let ms = 0; ms < 120_000; ms += 500) failures.failed(new Error('connection refused'), start + ms);
  failures.succeeded(start + 120_000);
  failures.succeeded(start + 120_500);
  const logged = lines(text());
  t.deepEqual(
    logged.map((l) => l.msg),
    ['reading the state version failed', 'reading the state version failed', 'reading the state version failed: works again'],
  );
  t.is(logged[1]!.failures_since_last_line, 119);
  t.is(logged[1]!.failing_for_ms, 60_000);
  t.is(logged[2]!.failed_for_ms, 120_000);
  t.is(logged[2]!.level, 30);
});

test('a poll that never failed logs nothing when it succeeds', (t) => {
  const { log, text } = capturingLogger('info');
  new FailureLog(log, 'x').succeeded();
  t.is(text(), '');
});
