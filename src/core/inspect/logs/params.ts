/** Training parameters: Lightning hparams.yaml, Ultralytics args.yaml, HF training_args.json and config.json, PEFT adapter_config.json. */
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../../errors';
import { MAX_JSON_DEPTH, checkValueDepth } from '../../util/json';
import { parseJsonTolerant, readTextLimited, toPosix } from './common';

/** File names (base names) read as parameters. */
export const PARAM_FILE_NAMES: readonly string[] = [
  'hparams.yaml',
  'args.yaml',
  'training_args.json',
  'config.json',
  'adapter_config.json',
];

/** Parameter files bigger than this are not hand-made configs; refuse rather than load them. */
export const MAX_PARAM_FILE_BYTES = 16 * 1024 * 1024;
/** Aliases expanded per document; bounds "billion laughs" YAML. */
const MAX_YAML_ALIASES = 100;

/** Parameters read from each file, keyed by the file's path relative to the imported root. */
export type ParamsBySource = Record<string, Record<string, unknown>>;

/**
 * Reads one parameter file (.json, or .yaml/.yml) as a plain object. An empty file gives {}.
 * relPath names the file in errors (defaults to absPath).
 */
export async function readParams(absPath: string, relPath: string = absPath): Promise<Record<string, unknown>> {
  const text = await readTextLimited(absPath, relPath, MAX_PARAM_FILE_BYTES);
  const lower = absPath.toLowerCase();
  let doc: unknown;
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) {
    try {
      // Unknown tags (Lightning's !!python/object, ...) are resolved as plain maps/lists, silently.
      doc = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES, logLevel: 'error', uniqueKeys: false });
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      // The yaml parser recurses per level and overflows at several hundred.
      if (/call stack/i.test(msg))
        throw new InputError(relPath, `YAML is nested more than ${MAX_JSON_DEPTH} levels deep; not read`);
      const bomb = /alias/i.test(msg) && /exhaustion|excessive/i.test(msg);
      throw new InputError(
        relPath,
        bomb ? `too many YAML alias expansions (limit ${MAX_YAML_ALIASES}): ${msg}` : `invalid YAML: ${msg}`,
      );
    }
    // Parsed: stored as JSON later, which recurses.
    checkValueDepth(doc, relPath, 'YAML', MAX_JSON_DEPTH);
  } else {
    doc = parseJsonTolerant(text, relPath);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new InputError(relPath, 'expected a mapping of parameter names to values');
  return doc as Record<string, unknown>;
}

/** Whether a relative path names a parameter file. */
export function isParamFile(relPath: string): boolean {
  return PARAM_FILE_NAMES.includes(path.posix.basename(toPosix(relPath)));
}

/**
 * Puts parameters from several files side by side, one object per file keyed by its relative path
 * (no key-level merging: the same name can mean different things in different files).
 * Sources are sorted so the result is stable.
 */
export function mergeParams(entries: { source: string; params: Record<string, unknown> }[]): ParamsBySource {
  const out: ParamsBySource = {};
  for (const e of [...entries].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))) {
    out[toPosix(e.source)] = e.params;
  }
  return out;
}
