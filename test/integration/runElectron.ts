// `npm run test:electron`: the same integration suites in desktop VS Code via @vscode/test-electron
// (downloads VS Code, so it needs internet; offline use scripts/test-vscode.mjs with code-server).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';
import { prepareWorkspace } from './workspace';

async function main(): Promise<number> {
  const repoRoot = path.resolve(__dirname, '../../..');
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'modelreg-ws-'));
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelreg-ud-'));
  const resultsFile = path.join(repoRoot, 'test-results', 'integration-electron.json');
  try {
    await prepareWorkspace(workspace);
    // Same calm settings as the code-server runs (scripts/code-server.mjs).
    fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
    fs.writeFileSync(
      path.join(userDataDir, 'User', 'settings.json'),
      JSON.stringify({
        'workbench.startupEditor': 'none',
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'git.openRepositoryInParentFolders': 'always',
        'explorer.compactFolders': false,
      }),
    );
    await runTests({
      version: process.env.VSCODE_TEST_VERSION ?? 'stable',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(__dirname, 'index.js'),
      extensionTestsEnv: { MODELREG_TEST_RESULTS: resultsFile, MODELREG_TEST_GREP: process.env.MODELREG_TEST_GREP },
      launchArgs: [
        workspace,
        '--user-data-dir',
        userDataDir,
        '--disable-extensions', // other installed extensions; the one under test still loads
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
      ],
    });
    console.log(`results: ${path.relative(process.cwd(), resultsFile)}`);
    return 0;
  } catch (e) {
    // runTests rejects when VS Code exits non-zero, i.e. when run() in index.ts reported failures.
    console.error(`integration tests failed: ${e instanceof Error ? e.message : e}`);
    return 1;
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code));
