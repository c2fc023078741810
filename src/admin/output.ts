import type { View } from './views.ts';

export interface Output {
  write(text: string): void;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.length > 0 ? printable(value.join(',')) : '-';
  if (typeof value === 'object') return printable(JSON.stringify(value));
  return printable(String(value));
}

/** Stored text may come from callers: escape control characters so it cannot forge lines or drive the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One object as aligned "key: value" lines. */
export function formatRecord(view: View): string {
  const width = Math.max(...Object.keys(view).map((k) => k.length));
  return Object.entries(view)
    .map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${cell(value)}`)
    .join('\n');
}

/** Rows as a plain table with the chosen columns. */
export function formatTable(rows: View[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** The note under a printed secret. */
export const SHOWN_ONCE = 'shown once: store it now, it cannot be displayed again';
