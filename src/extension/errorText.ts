// What an error toast says, without 'vscode' so it is unit-tested. A notification shows only its
// first line or so: the problem leads, then the file (short, relative to the workspace) and what
// failed. The output channel keeps the full text with absolute paths.
import * as path from 'path';
import { InputError } from '../core/errors';

export interface ErrorText {
  /** For the notification: "<Problem> (<short path>) — could not import outputs/run". */
  toast: string;
  /** For the output channel: "<action>: <message as thrown>". */
  log: string;
}

export interface Places {
  /** Workspace folders (absolute): paths inside them are shown relative. */
  roots: string[];
  /** The home folder: paths elsewhere under it are shown as ~/…. */
  home?: string;
}

/** `p` as a user reads it: relative to the workspace folder holding it, ~/… under home, else as is. */
export function shortPath(p: string, places: Places): string {
  if (!path.isAbsolute(p)) return p;
  const norm = path.normalize(p);
  for (const root of [...places.roots].sort((a, b) => b.length - a.length)) {
    const rel = path.relative(root, norm);
    if (rel === '') return path.basename(root);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  if (places.home && norm.startsWith(places.home + path.sep)) return `~${norm.slice(places.home.length)}`;
  return p;
}

/** Absolute paths inside text (a problem that quotes a file) shortened the same way. */
function shortenIn(text: string, places: Places): string {
  const prefixes = [
    ...places.roots.map((r) => ({ r, to: '' })),
    ...(places.home ? [{ r: places.home, to: '~/' }] : []),
  ];
  let out = text;
  for (const { r, to } of prefixes.sort((a, b) => b.r.length - a.r.length)) {
    // Only where a path starts: not inside another one (/other/home/…).
    out = out.replace(new RegExp(`(?<![\\w.~/-])${escapeRegExp(path.join(r, path.sep))}`, 'g'), to);
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** "problem" and "file" of an error: an InputError's own, or "/abs/file: problem" split, else the message alone. */
function parts(e: unknown): { problem: string; file?: string } {
  if (e instanceof InputError) return { problem: e.problem, file: e.file };
  const message = e instanceof Error ? e.message : String(e);
  const m = /^((?:\/|[A-Za-z]:\\)[^\n]*?): (.+)$/s.exec(message);
  return m ? { problem: m[2], file: m[1] } : { problem: message };
}

// Only a plain word: a model name or ref (colour-net@v1) keeps its case.
const upperFirst = (s: string) => (/^[a-z]+(?![^\s,;:])/.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : s);
const lowerFirst = (s: string) => (/^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s);

/**
 * The toast and log text of an error met while doing `action` ("Could not import outputs/run").
 * The file is left out of the toast when the action already names it.
 */
export function errorText(action: string, e: unknown, places: Places): ErrorText {
  const { problem, file } = parts(e);
  const short = file === undefined ? undefined : shortPath(file, places);
  const named = short !== undefined && ` ${action} `.includes(` ${short} `);
  const head = upperFirst(shortenIn(problem, places).trim() || 'unknown error');
  const toast = `${head}${short && !named ? ` (${short})` : ''} — ${lowerFirst(action)}`;
  return { toast, log: `${action}: ${e instanceof Error ? e.message : String(e)}` };
}
