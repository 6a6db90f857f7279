// Helpers to run a real VS Code offline: code-server (VS Code 1.99 web + Node extension host) on
// 127.0.0.1 and Debian's Chromium driven by playwright-core. See /work/shared/TESTING.md.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const codeServerBin = path.join(repoRoot, '.cache/code-server/node_modules/.bin/code-server');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Settings for a calm, deterministic test UI: no welcome page, tips, trust prompt, update checks
// or telemetry; compact folders off so `outputs/run1` is its own Explorer row.
export const testSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.openRepositoryInParentFolders': 'always',
  'git.autofetch': false,
  'explorer.compactFolders': false,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'window.commandCenter': false,
};

export function ensureCodeServer() {
  if (fs.existsSync(codeServerBin)) return codeServerBin;
  console.log('code-server missing, installing it (scripts/install-code-server.sh)...');
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts/install-code-server.sh')], { stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(codeServerBin)) throw new Error('installing code-server failed');
  return codeServerBin;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Installs a .vsix into extensionsDir the way a user would (code-server --install-extension). */
export function installVsix(vsix, extensionsDir) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelreg-cs-install-'));
  try {
    const r = spawnSync(
      codeServerBin,
      [
        '--install-extension',
        vsix,
        '--force',
        '--extensions-dir',
        extensionsDir,
        '--user-data-dir',
        path.join(tmp, 'ud'),
        '--config',
        path.join(tmp, 'config.yaml'),
      ],
      { encoding: 'utf8', env: { ...process.env, XDG_DATA_HOME: path.join(tmp, 'data') } },
    );
    if (r.status !== 0) throw new Error(`installing ${vsix} failed:\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Starts code-server on a free loopback port with a throwaway profile.
 * env is added to code-server's environment, which its extension host inherits.
 * Returns { url, port, pid, userDataDir, extensionsDir, logTail(n), stop() }.
 */
/** `restricted`: Workspace Trust on, and the folder opened untrusted (Restricted Mode), as a freshly cloned repository. */
export async function startCodeServer({
  workspace,
  env = {},
  extensionsDir,
  userDataDir,
  settings = {},
  restricted = false,
} = {}) {
  ensureCodeServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelreg-cs-'));
  const ud = userDataDir ?? path.join(tmp, 'user-data');
  const ext = extensionsDir ?? path.join(tmp, 'extensions');
  fs.mkdirSync(path.join(ud, 'User'), { recursive: true });
  fs.mkdirSync(ext, { recursive: true });
  const trust = restricted
    ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' }
    : {};
  fs.writeFileSync(
    path.join(ud, 'User/settings.json'),
    JSON.stringify({ ...testSettings, ...trust, ...settings }, null, 2),
  );
  // An explicit empty config file and XDG_DATA_HOME keep code-server from writing into ~/.config and ~/.local.
  fs.writeFileSync(path.join(tmp, 'config.yaml'), '');
  const port = await freePort();
  const args = [
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--config',
    path.join(tmp, 'config.yaml'),
    '--user-data-dir',
    ud,
    '--extensions-dir',
    ext,
    '--disable-telemetry',
    '--disable-update-check',
    ...(restricted ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--ignore-last-opened',
  ];
  if (workspace) args.push(workspace);
  const child = spawn(codeServerBin, args, {
    detached: true, // own process group, so stop() can kill the extension host and friends too
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_DATA_HOME: path.join(tmp, 'xdg-data'), ...env },
  });
  const lines = [];
  const keep = (buf) => {
    for (const l of buf.toString().split('\n')) if (l.trim()) lines.push(l);
    if (lines.length > 2000) lines.splice(0, lines.length - 2000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exit = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );

  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const server = {
    url,
    port,
    pid: child.pid,
    userDataDir: ud,
    extensionsDir: ext,
    workspace,
    logTail: (n = 40) => lines.slice(-n).join('\n'),
    /**
     * Errors (with their stacks) from the extension host's log, e.g. a failed activation, plus the
     * last lines of that log. The other logs under the user-data-dir are mostly noise.
     */
    extHostErrors(max = 40) {
      const files = [];
      const walk = (d) => {
        for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (e.name === 'remoteexthost.log') files.push(p);
        }
      };
      walk(path.join(ud, 'logs'));
      const out = [];
      for (const f of files) {
        const lines = fs.readFileSync(f, 'utf8').split('\n');
        let inError = false;
        const errors = lines.filter((l) => {
          if (/^\d{4}-\d\d-\d\d /.test(l)) inError = / \[error\] /.test(l);
          return inError;
        });
        const tail = lines.filter((l) => l.trim()).slice(-5);
        out.push(
          `--- ${path.relative(ud, f)}${errors.length ? ' (errors)' : ' (no errors; last lines)'}`,
          ...(errors.length ? errors.slice(-max) : tail),
        );
      }
      return out.join('\n');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!exited) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {}
        const t = await Promise.race([exit, sleep(5000).then(() => 'timeout')]);
        if (t === 'timeout')
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {}
      }
      // The extension host may outlive the server briefly; kill what is left of the group.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      fs.rmSync(tmp, { recursive: true, force: true });
    },
    /** Last-resort cleanup for process.on('exit'), where nothing async can run. */
    stopSync() {
      stopped = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  liveServers.add(server);
  exit.then(() => liveServers.delete(server));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      await server.stop();
      throw new Error(`code-server exited early (${JSON.stringify(exited)}):\n${server.logTail()}`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      const tail = server.logTail();
      await server.stop();
      throw new Error(`code-server did not answer /healthz within 60 s:\n${tail}`);
    }
    await sleep(150);
  }
  return server;
}

// Servers still running, so a driver can stop them all on SIGINT or a crash.
export const liveServers = new Set();
export async function stopAllServers() {
  await Promise.allSettled([...liveServers].map((s) => s.stop()));
}
export function stopAllServersSync() {
  for (const s of liveServers) s.stopSync();
  liveServers.clear();
}

/**
 * The workbench URL for `folder` (or a `.code-workspace` file, `workspaceFile`). With
 * extensionDevelopmentPath / extensionTestsPath the options go in the `payload` parameter as
 * vscode-remote URIs (code-server rejects them on its CLI).
 */
export function payloadUrl(server, { folder, workspaceFile, extensionDevelopmentPath, extensionTestsPath } = {}) {
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${path.resolve(p)}`;
  const params = new URLSearchParams();
  if (folder) params.set('folder', path.resolve(folder));
  if (workspaceFile) params.set('workspace', path.resolve(workspaceFile));
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  if (payload.length) params.set('payload', JSON.stringify(payload));
  return `${server.url}/?${params}`;
}

/**
 * A fresh browser context + page for the workbench, recording console errors and page errors.
 * With automation: true it also defines the hooks VS Code web calls when running extension tests
 * (window.codeAutomationLog gets the workbench and extension host log; codeAutomationExit gets
 * the extension host's exit code once run() settles).
 */
export async function newWorkbenchPage(browser, { automation = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  const logs = [];
  page.on('console', (m) => {
    // The gallery lookup (no network) and vsda 404s are expected noise offline.
    // VS Code's console styling ("%c  ERR color: #f33 ...") is dropped.
    const text = m.text().replace(/^%c\s*\S+\s+color: #\w+\s*/, '');
    if (m.type() === 'error' && !/open-vsx|ERR_NAME_NOT_RESOLVED|status of 404/.test(text)) errors.push(text);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.stack || e.message}`));
  let exitCode;
  const exited = new Promise((resolve) => {
    exitCode = resolve;
  });
  if (automation) {
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      logs.push(`[${type}] ${(Array.isArray(args) ? args : [args]).map(String).join(' ')}`);
      if (logs.length > 1000) logs.shift();
    });
    await page.exposeFunction('codeAutomationExit', (code) => exitCode(code));
  }
  return { context, page, errors, logs, exited };
}

export async function launchBrowser({ headless = true } = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: chromiumPath, headless, args: chromiumArgs });
}
