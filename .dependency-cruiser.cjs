// What may import what (dependency-cruiser). Checked by `npm run lint` (depcruise src webview) and by
// test/unit/architecture/dependencies.test.ts, which also checks that the folders of src/core import
// each other one way only (worked out from the cruise result: these rules judge single imports).
//
// Layers, lowest first: src/core (plain Node: registry, importers, checks) ← src/shared (UI
// contracts, no vscode, no DOM) ← src/extension, src/cli, src/server, webview/.

/** `vscode` is a module only the extension host provides (it resolves to @types/vscode, or not at all). */
const VSCODE = '^vscode$|node_modules/@types/vscode/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import each other in one direction only (type-only imports count too).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-plain-node',
      severity: 'error',
      comment: 'src/core runs in the CLI and tests without VS Code, and knows nothing of the UI layers above it.',
      from: { path: '^src/core/' },
      to: { path: [VSCODE, '^src/(shared|extension|cli|server)/', '^webview/'] },
    },
    {
      name: 'core-not-through-its-barrel',
      severity: 'error',
      comment: 'src/core/index.ts is for the layers above; inside core, import the module itself.',
      from: { path: '^src/core/', pathNot: '^src/core/index\\.ts$' },
      to: { path: '^src/core/index\\.ts$' },
    },
    {
      name: 'shared-has-no-host',
      severity: 'error',
      comment:
        'src/shared holds UI contracts both the extension and the pages use: no vscode, no host code, no page code.',
      from: { path: '^src/shared/' },
      to: { path: [VSCODE, '^src/extension/', '^webview/'] },
    },
    {
      name: 'cli-and-server-are-plain-node',
      severity: 'error',
      comment:
        'The CLI and the language server run in their own Node processes: no vscode, nothing from the extension.',
      from: { path: '^src/(cli|server)/' },
      to: { path: [VSCODE, '^src/extension/'] },
    },
    {
      name: 'webview-through-shared',
      severity: 'error',
      comment: 'Pages run in the browser: no vscode, and of src only the contracts in src/shared.',
      from: { path: '^webview/' },
      to: { path: [VSCODE, '^src/(?!shared/)'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Not node_modules: a dependency on a package must stay visible to the rules (vscode resolves to
    // node_modules/@types/vscode); doNotFollow keeps the cruise out of the packages themselves.
    exclude: { path: '^(out|dist)/' },
    // `import type` is an import too: a cycle through types still ties the folders together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
