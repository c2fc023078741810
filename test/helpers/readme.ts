// README.md as a list of steps for test/readme.test.ts, and the shape comparison of the output
// it shows. The conventions are described at the top of test/readme.test.ts.

/** What an HTML comment right before a block says about it. */
export type Marker =
  | { kind: 'skip'; reason: string }
  | { kind: 'server' }
  | { kind: 'file'; name: string }
  | { kind: 'exit'; status: number };

export interface Fence {
  /** 1-based line of the opening fence */
  line: number;
  /** the info string's first word ('' for none) */
  lang: string;
  /** the lines between the fences, without the fence's indentation */
  content: string;
  marker?: Marker;
}

export interface ExpectedOutput {
  kind: 'json' | 'text';
  line: number;
  content: string;
}

export type Step =
  | { kind: 'run'; fence: Fence; script: string; expected?: ExpectedOutput; status: number; merged: boolean }
  | { kind: 'server'; fence: Fence; script: string }
  | { kind: 'file'; fence: Fence; name: string; content: string }
  | { kind: 'skip'; fence: Fence; reason: string };

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console']);
const OUTPUT_LANGS = new Set(['', 'json', 'text']);
const MARKER = /^\s*<!--\s*readme-test:(.*?)-->\s*$/;

export function parseMarker(text: string, line: number): Marker {
  const body = text.trim();
  if (/^skip\b/.test(body)) {
    const skip = /^skip\s*\((.*)\)$/.exec(body);
    if (!skip?.[1]?.trim()) throw new Error(`README line ${line}: a skip marker needs a reason: skip (needs ...)`);
    return { kind: 'skip', reason: skip[1].trim() };
  }
  if (body === 'server') return { kind: 'server' };
  const file = /^file\s+(\w[\w.-]*)$/.exec(body);
  if (file) return { kind: 'file', name: file[1]! };
  const exit = /^exit\s+(\d{1,3})$/.exec(body);
  if (exit) return { kind: 'exit', status: Number(exit[1]) };
  throw new Error(`README line ${line}: unknown readme-test marker "${body}" (skip (reason), server, file NAME, exit N)`);
}

/** Every fenced block, with the marker right before it (only blank lines may separate them). */
export function fences(markdown: string): Array<Fence & { end: number }> {
  const lines = markdown.split('\n');
  const found: Array<Fence & { end: number }> = [];
  let pending: { marker: Marker; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const marker = MARKER.exec(text);
    if (marker) {
      if (pending) throw new Error(`README line ${pending.line}: a readme-test marker that no block follows`);
      pending = { marker: parseMarker(marker[1]!, i + 1), line: i + 1 };
      continue;
    }
    const open = /^(\s*)(`{3,})\s*([\w+-]*)/.exec(text);
    if (!open) {
      if (pending && text.trim() !== '') throw new Error(`README line ${pending.line}: a readme-test marker that no block follows`);
      continue;
    }
    const indent = open[1]!.length;
    const close = new RegExp(`^\\s*${open[2]}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    if (end >= lines.length) throw new Error(`README line ${i + 1}: a code block that is never closed`);
    const content = lines
      .slice(i + 1, end)
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    found.push({ line: i + 1, end: end + 1, lang: open[3] ?? '', content, ...(pending ? { marker: pending.marker } : {}) });
    pending = undefined;
    i = end;
  }
  if (pending) throw new Error(`README line ${pending.line}: a readme-test marker that no block follows`);
  return found;
}

/** A console transcript: `$ ` lines (and their `\` continuations) are the script, the rest its output. */
export function splitConsole(content: string): { script: string; output: string } {
  const script: string[] = [];
  const output: string[] = [];
  let continued = false;
  for (const line of content.split('\n')) {
    if (continued || line.startsWith('$ ')) {
      script.push(continued ? line : line.slice(2));
      continued = line.endsWith('\\');
    } else {
      output.push(line);
    }
  }
  return { script: script.join('\n'), output: output.join('\n') };
}

/** README.md as the steps the test takes, in order. `substitute` is applied to every script, file and expected output. */
export function readmeSteps(markdown: string, substitute: (text: string) => string = (t) => t): Step[] {
  const all = fences(markdown);
  const lines = markdown.split('\n');
  const steps: Step[] = [];
  for (let i = 0; i < all.length; i++) {
    const { end, ...fence } = all[i]!;
    const marker = fence.marker;
    if (marker?.kind === 'skip') {
      steps.push({ kind: 'skip', fence, reason: marker.reason });
      continue;
    }
    if (marker?.kind === 'file') {
      steps.push({ kind: 'file', fence, name: marker.name, content: substitute(fence.content) });
      continue;
    }
    if (!SHELL_LANGS.has(fence.lang)) {
      if (marker) throw new Error(`README line ${fence.line}: a "${marker.kind}" marker on a block that is not a shell block`);
      continue;
    }
    if (marker?.kind === 'server') {
      steps.push({ kind: 'server', fence, script: substitute(fence.content) });
      continue;
    }
    const status = marker?.kind === 'exit' ? marker.status : 0;
    if (fence.lang === 'console') {
      const { script, output } = splitConsole(fence.content);
      const expected = output.trim() ? { kind: 'text' as const, line: fence.line, content: substitute(output) } : undefined;
      steps.push({ kind: 'run', fence, script: substitute(script), status, merged: true, ...(expected ? { expected } : {}) });
      continue;
    }
    // output shown right after the block (only blank lines between) is what the block prints
    const next = all[i + 1];
    const adjacent = next && !next.marker && OUTPUT_LANGS.has(next.lang) && lines.slice(end, next.line - 1).every((l) => l.trim() === '');
    const expected = adjacent ? { kind: next.lang === 'json' ? ('json' as const) : ('text' as const), line: next.line, content: substitute(next.content) } : undefined;
    if (adjacent) i++;
    steps.push({ kind: 'run', fence, script: substitute(fence.content), status, merged: false, ...(expected ? { expected } : {}) });
  }
  return steps;
}

// ── shapes ──────────────────────────────────────────────────────────────────────────────────

const kind = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** JSON shape: the same keys and the same types, values free; an array's elements each have its first element's shape. */
export function jsonShapeProblems(expected: unknown, actual: unknown, path = '$'): string[] {
  if (kind(expected) !== kind(actual)) return [`${path}: expected ${kind(expected)}, got ${kind(actual)} (${JSON.stringify(actual)})`];
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length === 0) return [];
    if (actual.length === 0) return [`${path}: expected a non-empty array, got []`];
    return actual.flatMap((element, i) => jsonShapeProblems(expected[0], element, `${path}[${i}]`));
  }
  if (kind(expected) === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    return [
      ...Object.keys(e)
        .filter((k) => !(k in a))
        .map((k) => `${path}.${k}: missing`),
      ...Object.keys(a)
        .filter((k) => !(k in e))
        .map((k) => `${path}.${k}: not shown in the README`),
      ...Object.keys(e)
        .filter((k) => k in a)
        .flatMap((k) => jsonShapeProblems(e[k], a[k], `${path}.${k}`)),
    ];
  }
  return [];
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Values that differ from run to run, recognised in a shown line and matched by their kind. */
const VARIABLE: Array<[RegExp, string]> = [
  [/\.\.\.|…/g, '.*'],
  [/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\b/g, '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?Z'],
  [/\btm(?:cs|ap)_[a-z0-9]{16}_[\w-]+/g, 'tm(?:cs|ap)_[a-z0-9]{16}_[\\w-]+'],
  [/\b[0-9a-f]{16,}\b/g, '[0-9a-f]{16,}'],
  [/\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{20,}/g, '[\\w-]{20,}'],
];

/** A pattern for one shown line of text output: literal, except the width of spaces, `...` and values from VARIABLE. */
export function linePattern(line: string): RegExp {
  let parts: Array<{ literal: boolean; text: string }> = [{ literal: true, text: line.trimEnd() }];
  for (const [found, pattern] of VARIABLE) {
    parts = parts.flatMap((part) => {
      if (!part.literal) return [part];
      const out: Array<{ literal: boolean; text: string }> = [];
      let at = 0;
      for (const match of part.text.matchAll(found)) {
        out.push({ literal: true, text: part.text.slice(at, match.index) }, { literal: false, text: pattern });
        at = match.index + match[0].length;
      }
      out.push({ literal: true, text: part.text.slice(at) });
      return out;
    });
  }
  const source = parts.map((p) => (p.literal ? escape(p.text).replace(/ +/g, ' +') : p.text)).join('');
  return new RegExp(`^${source}$`);
}

const meaningfulLines = (text: string) => text.replace(/\s+$/, '').split('\n').map((l) => l.trimEnd());

/** Text shape: as many lines as shown, each matching the pattern of the shown line. */
export function textShapeProblems(expected: string, actual: string): string[] {
  const shown = meaningfulLines(expected);
  const got = meaningfulLines(actual);
  const problems = shown.flatMap((line, i) => {
    const pattern = linePattern(line);
    return got[i] !== undefined && pattern.test(got[i]!) ? [] : [`line ${i + 1}: expected ${pattern}, got ${JSON.stringify(got[i] ?? null)}`];
  });
  if (got.length > shown.length) problems.push(`${got.length - shown.length} more line(s) than shown: ${JSON.stringify(got.slice(shown.length))}`);
  return problems;
}

/** An OAuth error response (`{"error": "...", ...}`) anywhere in a block's output. */
export const OAUTH_ERROR = /"error"\s*:\s*"[a-z_]+"/;
