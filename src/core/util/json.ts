/**
 * Bounded JSON parsing for input files. V8's JSON.parse itself copes with any depth, but what comes
 * after does not: JSON.stringify when the value is stored, structuredClone, the JSON language service
 * and our own walkers recurse, and a file nested 5,000+ levels deep overflows the stack
 * ("Maximum call stack size exceeded"). So depth is checked first, by a linear scan of the text.
 */
import { InputError } from '../errors';

/**
 * Deepest nesting accepted in input JSON and YAML. Real files nest a handful of levels (a Hugging Face
 * config.json ~4, trainer_state.json 3, our JSON Schemas ~10, a Keras model config a few dozen for
 * models inside models); the recursive code downstream overflows at a few thousand. 128 is also
 * serde_json's default recursion limit, so what the safetensors/tokenizers Rust code refuses we refuse.
 */
export const MAX_JSON_DEPTH = 128;

export interface JsonLimits {
  /** Default MAX_JSON_DEPTH. */
  maxDepth?: number;
  /** Refuse an object that has the same key twice (JSON.parse silently keeps the last). */
  uniqueKeys?: boolean;
}

/** What the scan found wrong: the offset in the text and the problem, in words. */
export interface JsonScanProblem {
  offset: number;
  problem: string;
}

const QUOTE = 0x22,
  BACKSLASH = 0x5c,
  SLASH = 0x2f,
  STAR = 0x2a,
  NL = 0x0a;
const OPEN_OBJ = 0x7b,
  CLOSE_OBJ = 0x7d,
  OPEN_ARR = 0x5b,
  CLOSE_ARR = 0x5d,
  COMMA = 0x2c;

/**
 * One pass over the text, outside strings (and // or block comments, which jsonc allows): the first
 * place nesting goes deeper than maxDepth, or with uniqueKeys the first repeated key of an object.
 * Undefined when neither happens. Syntax errors are left to the parser.
 */
export function scanJson(text: string, limits: JsonLimits = {}): JsonScanProblem | undefined {
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const unique = limits.uniqueKeys === true;
  // One frame per open container: whether it is an object, and its keys so far (with uniqueKeys).
  const stack: { object: boolean; keys?: Set<string> }[] = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
      const keys = expectKey ? stack[stack.length - 1]?.keys : undefined;
      if (keys) {
        const raw = text.slice(start + 1, i);
        let key = raw;
        if (raw.includes('\\')) {
          try {
            key = JSON.parse(`"${raw}"`); // "a" and "\u0061" are the same key
          } catch {
            // a bad escape: the parser reports it
          }
        }
        if (keys.has(key)) return { offset: start, problem: `repeats the key ${JSON.stringify(key)} in one object` };
        keys.add(key);
      }
      expectKey = false;
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (stack.length >= maxDepth) return { offset: i, problem: `is nested more than ${maxDepth} levels deep` };
      stack.push({ object: c === OPEN_OBJ, keys: unique && c === OPEN_OBJ ? new Set() : undefined });
      expectKey = c === OPEN_OBJ;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      stack.pop();
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = stack[stack.length - 1]?.object === true;
    } else if (c === SLASH && text.charCodeAt(i + 1) === SLASH) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 1;
    } else if (c !== 0x20 && c !== NL && c !== 0x09 && c !== 0x0d) {
      expectKey = false; // a ':' or a value: no key until the next ','
    }
  }
  return undefined;
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** Throws InputError(file, ...) when the text nests too deeply (or repeats a key, with uniqueKeys). */
export function checkJsonText(text: string, file: string, what = 'JSON', limits: JsonLimits = {}): void {
  const p = scanJson(text, limits);
  if (!p) return;
  const { line, column } = lineColumn(text, p.offset);
  throw new InputError(file, `${what} ${p.problem} (at line ${line}, column ${column}); not read`);
}

/**
 * JSON.parse for input files: refuses too-deep nesting (and repeated keys with uniqueKeys) before
 * parsing, and turns syntax errors into InputError(file, "not valid JSON at line L, column C: ...").
 */
export function parseJsonBounded(text: string, file: string, opts: JsonLimits & { what?: string } = {}): unknown {
  checkJsonText(text, file, opts.what, opts);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(
      file,
      `${opts.what ? `${opts.what} is ` : ''}not valid JSON${jsonErrorWhere(text, err)}: ${(err as Error).message}`,
    );
  }
}

/** " at line L, column C" from a JSON.parse error's "position N", or '' when it names none. */
export function jsonErrorWhere(text: string, err: unknown): string {
  const m = /position (\d+)/.exec(String((err as Error)?.message));
  if (!m) return '';
  const { line, column } = lineColumn(text, Number(m[1]));
  return ` at line ${line}, column ${column}`;
}

/**
 * Depth of an already-parsed value (from YAML, say), without recursion: throws InputError when it
 * nests deeper than maxDepth. Shared references (YAML aliases) are walked once per reference, so
 * callers bound aliases too.
 */
export function checkValueDepth(value: unknown, file: string, what = 'value', maxDepth = MAX_JSON_DEPTH): void {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) throw new InputError(file, `${what} is nested more than ${maxDepth} levels deep; not read`);
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child !== null && typeof child === 'object') stack.push({ v: child, depth: depth + 1 });
    }
  }
}
