// Test entry point loaded by VS Code's extension host (extensionTestsPath): runs the integration
// suites with mocha, prints the spec report and writes a JSON result file for the driver
// (path in env MODELREG_TEST_RESULTS). Used by scripts/test-vscode.mjs and runElectron.ts alike.
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import type MochaType from 'mocha';

export interface TestResult {
  title: string;
  fullTitle: string;
  file?: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: { message: string; stack?: string };
}

export interface TestResults {
  startedAt: string;
  durationMs: number;
  vscodeVersion?: string;
  totals: { tests: number; passed: number; failed: number; pending: number };
  tests: TestResult[];
  /** Set when the runner itself failed (mocha missing, a test file did not load, ...). */
  fatal?: string;
  /** Mocha's spec report as printed. */
  output: string;
}

// out/test/integration -> repo root. The extension host's cwd is not the repo, so resolve from here.
const repoRoot = path.resolve(__dirname, '../../..');

export async function run(): Promise<void> {
  const started = Date.now();
  const results: TestResults = {
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    totals: { tests: 0, passed: 0, failed: 0, pending: 0 },
    tests: [],
    output: '',
  };
  const out: string[] = [];
  try {
    results.vscodeVersion = (require('vscode') as typeof import('vscode')).version;
  } catch {
    /* not inside VS Code: fine for a dry run */
  }
  try {
    const Mocha: typeof MochaType = require(require.resolve('mocha', { paths: [repoRoot] }));
    // Tee the reporter's output into the results file as well as the console.
    const base = Mocha.reporters.Base as unknown as { consoleLog: (...a: unknown[]) => void };
    const log = base.consoleLog;
    base.consoleLog = (...a: unknown[]) => {
      out.push(util.format(...a));
      log(...a);
    };
    class Reporter extends Mocha.reporters.Spec {
      constructor(runner: MochaType.Runner, options?: MochaType.MochaOptions) {
        super(runner, options);
        const add = (t: MochaType.Test | MochaType.Hook, state: TestResult['state'], err?: Error) =>
          results.tests.push({
            title: t.title,
            fullTitle: t.fullTitle(),
            file: t.file && path.relative(repoRoot, t.file),
            state,
            durationMs: t.duration,
            error: err && { message: String(err.message ?? err), stack: err.stack },
          });
        runner.on('pass', (t) => add(t, 'passed'));
        runner.on('fail', (t, err) => add(t, 'failed', err));
        runner.on('pending', (t) => add(t, 'pending'));
      }
    }
    const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: Reporter });
    if (process.env.MODELREG_TEST_GREP) mocha.grep(process.env.MODELREG_TEST_GREP);
    const files = (fs.readdirSync(__dirname, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.test.js'))
      .sort()
      .map((f) => path.join(__dirname, f));
    for (const f of files) mocha.addFile(f);
    await new Promise<void>((resolve) => mocha.run(() => resolve()));
    base.consoleLog = log;
    if (files.length === 0) results.fatal = `no *.test.js files under ${__dirname}`;
  } catch (e) {
    results.fatal = e instanceof Error ? (e.stack ?? e.message) : String(e);
    console.error('integration test runner failed:', results.fatal);
  }
  for (const t of results.tests) results.totals[t.state]++;
  results.totals.tests = results.tests.length;
  results.durationMs = Date.now() - started;
  results.output = out.join('\n');
  const file = process.env.MODELREG_TEST_RESULTS;
  if (file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Write then rename, so the driver never reads a half-written file.
    fs.writeFileSync(file + '.tmp', JSON.stringify(results, null, 2));
    fs.renameSync(file + '.tmp', file);
  }
  // Like @vscode/test-electron expects: reject when anything failed, so the exit code is non-zero.
  if (results.fatal) throw new Error(results.fatal);
  if (results.totals.failed > 0) throw new Error(`${results.totals.failed} integration test(s) failed`);
}
