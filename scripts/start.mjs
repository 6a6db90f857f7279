// `npm start`: set up, build, make a sample workspace, and open it in a real VS Code (code-server)
// with the packaged extension installed. Uses only Node built-ins until the set-up has run.
import { execFileSync, spawn } from 'child_process';
import { existsSync, mkdirSync, writeFileSync } from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: repo, stdio: 'inherit' });

run('bash', ['scripts/setup.sh']);
run('npm', ['run', 'compile']);
run('npm', ['run', 'package']);

const workspace = path.join(repo, 'sample-workspace');
if (!existsSync(workspace)) {
  mkdirSync(workspace, { recursive: true });
  const { makeSampleWorkspace } = await import(path.join(repo, 'out/test/fixtures/sampleWorkspace.js'));
  await makeSampleWorkspace(workspace, { register: true });
  console.log(`Sample workspace created: ${workspace}`);
}

const cache = path.join(repo, '.cache');
const codeServer = path.join(cache, 'code-server/node_modules/.bin/code-server');
const extensionsDir = path.join(cache, 'start/extensions');
const userDataDir = path.join(cache, 'start/user-data');
mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
writeFileSync(
  path.join(userDataDir, 'User/settings.json'),
  JSON.stringify(
    { 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off', 'security.workspace.trust.enabled': false },
    null,
    2,
  ),
);
run(codeServer, [
  '--extensions-dir',
  extensionsDir,
  '--user-data-dir',
  userDataDir,
  '--install-extension',
  path.join(repo, 'model-registry.vsix'),
  '--force',
]);

const port = process.env.PORT ?? '8080';
const server = spawn(
  codeServer,
  [
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--extensions-dir',
    extensionsDir,
    '--user-data-dir',
    userDataDir,
    workspace,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
server.stdout.on('data', (d) => {
  if (/HTTP server listening/.test(String(d))) {
    console.log(
      `\nModel Registry is running in VS Code at  http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}\n`,
    );
    console.log(
      'Open the "Model Registry" view in the activity bar: "classifier" has three versions (v1 @production, v3 @staging,\n' +
        'a fine-tune of v1). Select v1 and v2 (Ctrl/Cmd-click) → "Compare Versions…"; v3 → "Show Lineage Graph".\n' +
        'Right-click outputs/* in the Explorer → "Import as Model" to add your own.',
    );
    console.log(
      'Then right-click datasets/colours → "Register Dataset…" and a colour-net version → "Evaluate…", or a version → "Convert…". Ctrl+C stops.',
    );
  }
});
process.on('SIGINT', () => server.kill('SIGTERM'));
server.on('exit', (code) => process.exit(code ?? 0));
