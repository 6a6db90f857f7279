#!/usr/bin/env node
// `npm run test:vscode`: runs the extension inside a real VS Code (code-server) offline.
//  1. integration: mocha suites in out/test/integration run inside the extension host
//     (extensionDevelopmentPath + extensionTestsPath via the workbench URL's payload);
//  2. e2e: out/test/e2e/*.e2e.js drive the workbench UI in headless Chromium, with the extension
//     installed from model-registry.vsix when present (as a user gets it), else from the repo.
// Ends with a line `N passed, N failed`; exits non-zero on any failure or when nothing ran.
// Flags (npm run test:vscode -- <flags>): --no-e2e | --only-e2e | --grep <re> | --vsix <file> |
// --no-vsix | --extension-path <dir>; --help explains them.
// Needs `npm run build && npm run compile` first.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {
  ensureCodeServer,
  installVsix,
  launchBrowser,
  newWorkbenchPage,
  payloadUrl,
  repoRoot,
  startCodeServer,
  stopAllServers,
  stopAllServersSync,
} from './code-server.mjs';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const known = ['--no-e2e', '--only-e2e', '--grep', '--vsix', '--no-vsix', '--extension-path', '--help'];
const unknown = argv.filter(
  (a, i) => a.startsWith('-') && !known.includes(a) && !['--grep', '--vsix', '--extension-path'].includes(argv[i - 1]),
);
if (flag('--help') || unknown.length) {
  if (unknown.length) console.error(`unknown option(s): ${unknown.join(' ')}`);
  console.error(
    'usage: node scripts/test-vscode.mjs [--no-e2e | --only-e2e] [--grep <regexp>] [--vsix <file> | --no-vsix] [--extension-path <dir>]\n' +
      '  --grep: mocha grep for integration tests, and a filter on e2e file names\n' +
      '  --vsix: e2e with this package instead of ./model-registry.vsix; --no-vsix: e2e from the development path\n' +
      '  --extension-path: load the extension under development from <dir> instead of the repo',
  );
  process.exit(unknown.length ? 2 : 0);
}
const noE2e = flag('--no-e2e');
const onlyE2e = flag('--only-e2e');
const grep = option('--grep');
// Lets the harness be tried against another build of the extension.
const extensionPath = path.resolve(option('--extension-path') ?? process.env.MODELREG_EXTENSION_PATH ?? repoRoot);
const INTEGRATION_TIMEOUT_MS = 5 * 60_000;
const E2E_TIMEOUT_MS = 5 * 60_000;

const outDir = path.join(repoRoot, 'out/test');
const resultsDir = path.join(repoRoot, 'test-results');
const screenshotDir = path.join(resultsDir, 'screenshots');
const totals = { passed: 0, failed: 0 };
const tempDirs = new Set();
let browser;

const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const indent = (s, n = 4) =>
  String(s)
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function tempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}
function removeTemp(d) {
  fs.rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

async function cleanup() {
  await browser?.close().catch(() => {});
  browser = undefined;
  await stopAllServers();
  for (const d of [...tempDirs]) removeTemp(d);
}
// Never leave code-server or Chromium behind: Ctrl-C, kill, crash.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    console.error(`\n${sig}: stopping servers and browser...`);
    await cleanup();
    process.exit(130);
  });
}
// A stray promise from a timed-out test must not kill the run; count it as a failure.
process.on('unhandledRejection', (e) => {
  totals.failed++;
  console.log(`  ✘ unhandled rejection: ${e?.stack || e}`);
});
process.on('exit', () => {
  stopAllServersSync();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

function loadPrepareWorkspace() {
  const file = path.join(outDir, 'integration/workspace.js');
  const { prepareWorkspace } = require(file);
  if (typeof prepareWorkspace !== 'function') throw new Error(`${file} does not export prepareWorkspace(dir)`);
  return async (dir) => {
    dir ??= tempDir('modelreg-ws-');
    await prepareWorkspace(dir);
    return dir;
  };
}

function warnIfUnbuilt() {
  if (extensionPath === repoRoot && !fs.existsSync(path.join(repoRoot, 'dist/extension.js'))) {
    console.log('  warning: dist/extension.js is missing (run `npm run build`); the extension will not load');
  }
}

// The last entries, each cut to its first lines: workbench stacks are minified noise.
function briefErrors(errors, max = 12) {
  return errors
    .slice(-max)
    .map((e) => e.split('\n').slice(0, 4).join('\n'))
    .join('\n');
}

function diagnostics(server, pageInfo) {
  const parts = [];
  if (server) {
    parts.push(`code-server output (tail):\n${indent(server.logTail(15))}`);
    const ext = server.extHostErrors();
    if (ext) parts.push(`extension host log:\n${indent(ext)}`);
  }
  if (pageInfo?.errors.length) parts.push(`browser console errors:\n${indent(briefErrors(pageInfo.errors))}`);
  if (pageInfo?.logs.length) parts.push(`workbench log (tail):\n${indent(briefErrors(pageInfo.logs, 30))}`);
  return indent(parts.join('\n'));
}

async function runIntegration(prepareWorkspace) {
  const t0 = Date.now();
  console.log(`\nIntegration tests (extension: ${path.relative(process.cwd(), extensionPath) || '.'})`);
  warnIfUnbuilt();
  const workspace = await prepareWorkspace();
  const resultsFile = path.join(tempDir('modelreg-results-'), 'integration.json');
  // A workspace file holding the one folder: a test can add a second folder without the window
  // reloading (adding one to a single-folder window turns it into a workspace, which reloads it).
  const workspaceFile = path.join(path.dirname(resultsFile), 'integration.code-workspace');
  fs.writeFileSync(workspaceFile, JSON.stringify({ folders: [{ path: workspace }] }, null, 2));
  const env = { MODELREG_TEST_RESULTS: resultsFile };
  if (grep) env.MODELREG_TEST_GREP = grep;
  const server = await startCodeServer({ workspace, env });
  let pageInfo;
  try {
    pageInfo = await newWorkbenchPage(browser, { automation: true });
    await pageInfo.page.goto(
      payloadUrl(server, {
        workspaceFile,
        extensionDevelopmentPath: extensionPath,
        extensionTestsPath: path.join(outDir, 'integration/index.js'),
      }),
    );
    // Done when the results file appears; the extension host's exit or a dead server end it too.
    let exitCode;
    pageInfo.exited.then((c) => {
      exitCode = c;
    });
    const deadline = Date.now() + INTEGRATION_TIMEOUT_MS;
    let exitSeen;
    while (!fs.existsSync(resultsFile)) {
      if (Date.now() > deadline) break;
      if (exitCode !== undefined) {
        exitSeen ??= Date.now();
        if (Date.now() - exitSeen > 3000) break; // exited without writing results
      }
      if (!server.pid || !isAlive(server.pid)) break;
      await sleep(200);
    }
    fs.mkdirSync(screenshotDir, { recursive: true });
    await pageInfo.page.screenshot({ path: path.join(screenshotDir, 'integration.png') }).catch(() => {});
    if (!fs.existsSync(resultsFile)) {
      totals.failed++;
      const why =
        exitCode !== undefined
          ? `the extension host stopped (reported exit code ${exitCode}) without writing them`
          : `nothing after ${secs(t0)}`;
      console.log(`  ✘ no integration results: ${why}\n${diagnostics(server, pageInfo)}`);
      return;
    }
    const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.copyFileSync(resultsFile, path.join(resultsDir, 'integration.json'));
    // Stack frames inside VS Code itself say nothing about our code.
    const report = results.output
      .replace(/^\n+|\n+$/g, '')
      .split('\n')
      .filter((l) => !/^\s+at .*\/\.cache\/code-server\//.test(l))
      .join('\n');
    console.log(indent(report, 2));
    totals.passed += results.totals.passed;
    totals.failed += results.totals.failed;
    if (results.fatal) {
      totals.failed++;
      console.log(`  ✘ runner failed:\n${indent(results.fatal)}\n${diagnostics(server, pageInfo)}`);
    } else {
      // Errors the workbench logged besides run()'s own rejection may explain failures.
      const errors = pageInfo.errors.filter((e) => !/integration test\(s\) failed/.test(e));
      if (results.totals.failed && errors.length)
        console.log(`  browser console errors:\n${indent(briefErrors(errors))}`);
    }
    console.log(
      `  integration: ${results.totals.passed} passed, ${results.totals.failed} failed` +
        ` (VS Code ${results.vscodeVersion}, ${secs(t0)}); screenshot test-results/screenshots/integration.png`,
    );
  } finally {
    await pageInfo?.context.close().catch(() => {});
    await server.stop();
    removeTemp(workspace);
    removeTemp(path.dirname(resultsFile));
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function runE2e(prepareWorkspace) {
  const dir = path.join(outDir, 'e2e');
  let files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.e2e.js'))
        .sort()
    : [];
  if (grep) files = files.filter((f) => new RegExp(grep).test(f));
  // The extension as a user gets it: installed from the packaged .vsix, if there is one.
  const vsixPath = option('--vsix') ? path.resolve(option('--vsix')) : path.join(repoRoot, 'model-registry.vsix');
  if (option('--vsix') && !fs.existsSync(vsixPath)) throw new Error(`${vsixPath} does not exist`);
  const vsix = !flag('--no-vsix') && fs.existsSync(vsixPath) ? vsixPath : undefined;
  let extensionsDir;
  console.log(
    `\nEnd-to-end tests (extension: ${vsix ? `installed from ${path.basename(vsix)}` : `development path ${path.relative(process.cwd(), extensionPath) || '.'}`})`,
  );
  if (!files.length) {
    console.log('  (no out/test/e2e/*.e2e.js files)');
    return;
  }
  if (!vsix) warnIfUnbuilt();
  if (vsix) {
    const dist = path.join(repoRoot, 'dist/extension.js');
    if (fs.existsSync(dist) && fs.statSync(dist).mtimeMs > fs.statSync(vsix).mtimeMs) {
      console.log(
        `  note: ${path.basename(vsix)} is older than dist/extension.js; run \`npm run package\` to test the current build`,
      );
    }
    const t0 = Date.now();
    extensionsDir = tempDir('modelreg-extensions-');
    installVsix(vsix, extensionsDir);
    console.log(`  installed ${path.basename(vsix)} into a temporary --extensions-dir (${secs(t0)})`);
  }
  // Old screenshots (e.g. of an earlier failure) would be misleading.
  fs.mkdirSync(screenshotDir, { recursive: true });
  for (const f of fs.readdirSync(screenshotDir)) if (/^e2e-.*\.png$/.test(f)) fs.rmSync(path.join(screenshotDir, f));

  for (const file of files) {
    const name = file.replace(/\.e2e\.js$/, '');
    const t0 = Date.now();
    const servers = [];
    const pages = [];
    const workspaces = [];
    const ctx = {
      browser,
      repoRoot,
      screenshotDir,
      mode: vsix ? 'vsix' : 'dev',
      async prepareWorkspace(d) {
        const ws = await prepareWorkspace(d);
        if (!d) workspaces.push(ws);
        return ws;
      },
      async startCodeServer(opts = {}) {
        const s = await startCodeServer({ extensionsDir, ...opts });
        servers.push(s);
        return s;
      },
      /** URL opening `folder`, with the extension loaded from the development path unless installed. */
      workbenchUrl(server, folder) {
        return payloadUrl(server, { folder, extensionDevelopmentPath: vsix ? undefined : extensionPath });
      },
      /** New page on the workbench for `folder`, once the workbench has rendered. */
      async openWorkbench(server, folder) {
        const info = await newWorkbenchPage(browser);
        pages.push(info);
        await info.page.goto(ctx.workbenchUrl(server, folder));
        await info.page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 60_000 });
        return info.page;
      },
      log: (...a) => console.log('      ', ...a),
    };
    let error;
    try {
      const mod = require(path.join(dir, file));
      if (typeof mod.run !== 'function') throw new Error(`${file} does not export run(ctx)`);
      let timer;
      const running = mod.run(ctx);
      running.catch?.(() => {}); // it may still reject after a timeout, when its page is gone
      await Promise.race([
        running,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${E2E_TIMEOUT_MS / 1000} s`)), E2E_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
    } catch (e) {
      error = e;
    }
    if (error) {
      totals.failed++;
      for (const [i, p] of pages.entries()) {
        await p.page
          .screenshot({ path: path.join(screenshotDir, `e2e-${name}-failure${i || ''}.png`) })
          .catch(() => {});
      }
      // Playwright colours its call log; plain text reads better in CI logs.
      // eslint-disable-next-line no-control-regex -- strips ANSI colour codes
      const text = String(error?.stack || error).replace(/\x1b\[[0-9;]*m/g, '');
      console.log(`  ✘ ${name} (${secs(t0)})\n${indent(text, 6)}`);
      for (const s of servers) console.log(diagnostics(s));
      for (const p of pages) if (p.errors.length) console.log(diagnostics(null, p));
      console.log(`    screenshots in test-results/screenshots/e2e-${name}-*.png`);
    } else {
      totals.passed++;
      console.log(`  ✔ ${name} (${secs(t0)})`);
    }
    for (const p of pages) await p.context.close().catch(() => {});
    for (const s of servers) await s.stop();
    for (const w of workspaces) removeTemp(w);
  }
}

async function main() {
  const t0 = Date.now();
  if (noE2e && onlyE2e) throw new Error('--no-e2e and --only-e2e exclude each other');
  for (const f of ['integration/index.js', 'integration/workspace.js']) {
    if (!fs.existsSync(path.join(outDir, f)))
      throw new Error(`out/test/${f} is missing: run \`npm run build && npm run compile\` first`);
  }
  ensureCodeServer();
  const prepareWorkspace = loadPrepareWorkspace();
  browser = await launchBrowser();
  // A broken phase is one failure; the other phase still runs.
  for (const [skip, phase] of [
    [onlyE2e, runIntegration],
    [noE2e, runE2e],
  ]) {
    if (skip) continue;
    try {
      await phase(prepareWorkspace);
    } catch (e) {
      totals.failed++;
      console.log(`  ✘ ${phase.name} failed: ${e?.stack || e}`);
    }
  }
  console.log(`\n(total ${secs(t0)})`);
}

let code = 0;
try {
  await main();
} catch (e) {
  console.error(`\ntest-vscode: ${e?.stack || e}`);
  totals.failed++;
} finally {
  await cleanup();
}
console.log(`${totals.passed} passed, ${totals.failed} failed`);
if (totals.failed > 0 || totals.passed === 0) code = 1;
process.exit(code);
