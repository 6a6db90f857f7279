// Bundles the extension host code and the CLI. Native and runtime-provided modules stay external.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'fs';

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode', 'sqlite3', 'onnxruntime-node'],
  // Prefer ES module builds: vscode-json-languageservice's UMD build loads its parts with a dynamic require esbuild cannot follow.
  mainFields: ['module', 'main'],
  logLevel: 'info',
};
const builds = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // The config.json language server, a separate process started by the extension.
  { ...common, entryPoints: ['src/server/server.ts'], outfile: 'dist/server.js' },
  // The evaluator's image-decoding worker thread, loaded from beside the bundle that starts it.
  { ...common, entryPoints: ['src/core/evaluate/decodeWorker.ts'], outfile: 'dist/decodeWorker.js' },
  // The child process that hosts onnxruntime sessions (src/core/onnxrt), found beside the bundle that forks it.
  { ...common, entryPoints: ['src/core/onnxrt/ortHost.ts'], outfile: 'dist/ortHost.js' },
  // The detached training runner (src/core/train), started beside the bundle that queues the runs.
  { ...common, entryPoints: ['src/core/train/runnerHost.ts'], outfile: 'dist/runnerHost.js' },
];

// The panels' pages (browser) and their stylesheets: every folder under webview/ with a main.ts is
// one, so a new panel needs no entry here (shared/ is imported by the pages, not built alone).
// A panel may load only dist/webview.
const page = { bundle: true, minify: true, sourcemap: 'linked', logLevel: 'info' };
const PAGES = readdirSync('webview', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`webview/${d.name}/main.ts`))
  .map((d) => d.name);
for (const name of PAGES) {
  builds.push(
    {
      ...page,
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
      entryPoints: [`webview/${name}/main.ts`],
      outfile: `dist/webview/${name}.js`,
    },
    // Through esbuild rather than a copy, so --watch picks up CSS edits (and @import of the shared base).
    { ...page, sourcemap: false, entryPoints: [`webview/${name}/${name}.css`], outfile: `dist/webview/${name}.css` },
  );
}

// VS Code's icon font, which the page links as vscode-codicon-stylesheet (vscode-elements finds it by that id).
const codicons = 'node_modules/@vscode/codicons/dist';
mkdirSync('dist/webview', { recursive: true });
if (existsSync(`${codicons}/codicon.css`)) {
  for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(`${codicons}/${f}`, `dist/webview/${f}`);
} else {
  console.warn('@vscode/codicons is not installed: the compare panel shows no icons');
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  // Let every bundle finish even when one fails, then fail the build.
  const results = await Promise.allSettled(builds.map((b) => esbuild.build(b)));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) {
    process.exitCode = 1;
    console.error(`${failed.length} of ${builds.length} bundles failed`);
  }
}
