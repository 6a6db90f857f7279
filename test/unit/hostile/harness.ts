/**
 * Runs the real CLI (out/src/cli/main.js) on hostile inputs and checks what every run must hold:
 * an exit code of 0, 1 or 2, no stack trace, a refusal that names the file and the problem, no hang
 * past 30 s, no control characters from the input on the terminal, nothing stored after a refusal
 * once gc has run. Failures are collected, not thrown one by one, so one run shows all of them.
 */
import { spawn } from 'child_process';
import { existsSync, promises as fsp, statSync } from 'fs';
import * as path from 'path';
import * as sqlite3 from 'sqlite3';
import { repoRoot } from '../helpers/paths';

const ROOT = repoRoot;
const COMPILED = path.join(ROOT, 'out/src/cli/main.js');
const BUNDLED = path.join(ROOT, 'dist/cli.js');
const mtime = (f: string) => (existsSync(f) ? statSync(f).mtimeMs : -1);
/**
 * The CLI as users run it: the esbuild bundle (dist/cli.js, which `npm test` builds, and which starts
 * with a third less CPU) when it is at least as new as the tsc output, else the tsc output;
 * MODELREG_CLI names another (a snapshot while others rebuild the tree).
 */
export const CLI = process.env.MODELREG_CLI ?? (mtime(BUNDLED) >= mtime(COMPILED) ? BUNDLED : COMPILED);
/** A run still going after this is a hang: it is killed and the case fails. */
export const HANG_MS = 30_000;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  hung: boolean;
}

/** One CLI run in `cwd`, killed (SIGKILL) after `killAfterMs`. Output is capped so a flood cannot eat memory. */
export function runCli(
  cwd: string,
  args: string[],
  killAfterMs = HANG_MS,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    const cap = 1 << 20;
    child.stdout.on('data', (d: Buffer) => {
      if ((outBytes += d.length) <= cap) out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if ((errBytes += d.length) <= cap) err.push(d);
    });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        out: Buffer.concat(out).toString('utf8'),
        err: Buffer.concat(err).toString('utf8'),
        hung,
      });
    });
  });
}

/** Runs `fn` over `items`, at most `limit` at a time, in order of start. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** What is stored in a local registry: row counts and object/temp files. */
export interface Stored {
  rows: Record<string, number>;
  objects: string[];
  temp: string[];
}

const COUNTED = ['versions', 'files', 'metrics', 'datasets', 'evaluations', 'evaluation_samples'];

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await fsp.readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(path.join(d, e.name), `${rel}${e.name}/`);
      else out.push(rel + e.name);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** Rows and files of the registry at `reg` (read-only; nothing when it was never created). */
export async function stored(reg: string): Promise<Stored> {
  const rows: Record<string, number> = {};
  const file = path.join(reg, 'registry.db');
  if (existsSync(file)) {
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (e) => (e ? reject(e) : resolve(d)));
    });
    try {
      for (const table of COUNTED) {
        rows[table] = await new Promise<number>((resolve) =>
          db.get(`SELECT count(*) AS n FROM ${table}`, (e, row: { n: number } | undefined) =>
            resolve(e ? -1 : (row?.n ?? -1)),
          ),
        );
      }
    } finally {
      await new Promise((resolve) => db.close(resolve));
    }
  }
  return { rows, objects: await listFiles(path.join(reg, 'objects')), temp: await listFiles(path.join(reg, 'tmp')) };
}

/** Control characters that must never reach a terminal raw (tab and newline are the CLI's own). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]/;
/** Names in the corpus hide "\nFORGED" to try to start a line of their own. */
export const FORGED = 'FORGED';
const STACK = /^\s+at \S|\b(RangeError|TypeError|ReferenceError)\b|Maximum call stack/m;

export const show = (s: string, max = 160) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/** Problems of one run's output, independent of what the case expected. */
export function outputProblems(r: CliResult): string[] {
  const p: string[] = [];
  if (r.hung) p.push(`hang: still running after ${HANG_MS / 1000} s (killed)`);
  else if (r.signal) p.push(`died by ${r.signal}`);
  else if (r.code === null || ![0, 1, 2].includes(r.code)) p.push(`exit code ${r.code}`);
  const both = r.out + r.err;
  const stack = STACK.exec(r.err);
  if (stack)
    p.push(
      `stack trace or raw JS error on stderr (${show(r.err.slice(Math.max(0, stack.index - 60), stack.index + 80))})`,
    );
  const ctl = CONTROL.exec(both);
  if (ctl)
    p.push(
      `raw control character U+${ctl[0].charCodeAt(0).toString(16).padStart(4, '0')} on the terminal (${show(both.slice(Math.max(0, ctl.index - 40), ctl.index + 40))})`,
    );
  if (new RegExp(`(^|\\n)${FORGED}`).test(both))
    p.push('a name from the input started a line of its own (forged output)');
  return p;
}

/** The difference between two snapshots of a registry, empty when equal. */
export function storedDiff(before: Stored, after: Stored): string[] {
  const p: string[] = [];
  for (const t of COUNTED)
    if ((after.rows[t] ?? 0) !== (before.rows[t] ?? 0))
      p.push(`${t}: ${before.rows[t] ?? 0} rows before, ${after.rows[t]} after gc`);
  const added = after.objects.filter((o) => !before.objects.includes(o));
  if (added.length) p.push(`${added.length} object(s) left after gc (${added.slice(0, 2).join(', ')})`);
  if (after.temp.length) p.push(`temp files left after gc: ${after.temp.slice(0, 3).join(', ')}`);
  return p;
}

/** A fixed-width table of failures: id | problem | output. */
export function failureTable(rows: { id: string; problem: string; output: string }[]): string {
  const w = Math.min(48, Math.max(4, ...rows.map((r) => r.id.length)));
  return rows.map((r) => `${r.id.padEnd(w)} | ${r.problem} | ${r.output}`).join('\n');
}
