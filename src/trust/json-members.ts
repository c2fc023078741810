export interface JsonShape {
  /** the first member name repeated within one object, or null */
  duplicate: string | null;
  /** the deepest nesting of objects and arrays (a flat object is 1) */
  depth: number;
}

/**
 * Walks a JSON text once, without recursion, for what JSON.parse does not tell: a repeated member
 * name in any object (JSON.parse keeps the last of two equal names, so `{"sub":"a","sub":"b"}`
 * could mean different things to different parsers) and how deeply it nests. Assumes the text is
 * JSON that JSON.parse accepts (call it after parsing).
 */
export function inspectJson(text: string): JsonShape {
  const stack: { names: Set<string> | null; expectName: boolean }[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') stack.push({ names: new Set(), expectName: true });
    else if (c === '[') stack.push({ names: null, expectName: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.names) top.expectName = true;
    } else if (c === '"') {
      const end = endOfString(text, i);
      const top = stack[stack.length - 1];
      if (top?.names && top.expectName) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.names.has(name)) return { duplicate: name, depth: Math.max(depth, stack.length) };
        top.names.add(name);
        top.expectName = false;
      }
      i = end;
    }
    if (stack.length > depth) depth = stack.length;
  }
  return { duplicate: null, depth };
}

/** The first repeated member name in any object of a JSON text, or null (see inspectJson). */
export function findDuplicateMember(text: string): string | null {
  return inspectJson(text).duplicate;
}

/** Index of the closing quote of the string that opens at `start`. */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}
