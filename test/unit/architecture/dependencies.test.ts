// What may import what: the rules in .dependency-cruiser.cjs (cycles, src/core plain Node, src/shared
// without the host, pages through src/shared) run over src/ and webview/ with dependency-cruiser; the
// folders of src/core and of src/extension are checked for cycles (folderCycles.ts); src/core and
// src/shared are checked to compile without the DOM. Each check is also run on a tree that breaks it.
import * as assert from 'assert';
import type { ICruiseResult, IViolation } from 'dependency-cruiser' with { 'resolution-mode': 'import' };
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { repoPath, repoRoot } from '../helpers/paths';
import { tempDir } from '../helpers/tmp';
import { CruisedModule, describeFolderCycles, folderCycles, folderOf } from './folderCycles';

/** Folders whose sub-folders (and files directly inside) must import each other one way only. */
const FOLDER_ROOTS = ['src/core', 'src/extension'];

/** Cruises `roots` (relative to `baseDir`) with the repository's rule set. */
async function cruiseTree(baseDir: string, roots: string[]): Promise<ICruiseResult> {
  const { cruise } = await import('dependency-cruiser');
  const { default: extractDepcruiseOptions } = await import('dependency-cruiser/config-utl/extract-depcruise-options');
  const { default: extractTSConfig } = await import('dependency-cruiser/config-utl/extract-ts-config');
  const options = await extractDepcruiseOptions(repoPath('.dependency-cruiser.cjs'));
  const tsconfig = path.join(baseDir, 'tsconfig.json');
  const result = await cruise(
    roots,
    { ...options, baseDir, tsConfig: existsSync(tsconfig) ? { fileName: tsconfig } : undefined },
    {},
    { tsConfig: existsSync(tsconfig) ? extractTSConfig(tsconfig) : undefined },
  );
  return result.output as ICruiseResult;
}

/** One line per broken rule: the rule, the import, and for a cycle the way round. */
function describeViolation(v: IViolation): string {
  const cycle = v.cycle?.length ? ` (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(' → ')})` : '';
  return `${v.rule.name}: ${v.from} → ${v.to}${cycle}`;
}

const errorsOf = (r: ICruiseResult) =>
  r.summary.violations.filter((v) => v.rule.severity === 'error').map(describeViolation);

/** The folder cycles under each root. */
function folderCyclesOf(r: ICruiseResult, roots: string[]): string {
  return roots.map((root) => describeFolderCycles(folderCycles(r.modules, root))).join('');
}

/**
 * Where src/core or src/shared could use the DOM: a tsconfig that compiles them with a DOM lib, a file
 * of theirs that tsconfig.json does not compile (so its lib does not hold it), or a
 * `/// <reference lib="dom" />` in one of their files.
 */
function domUse(root: string): string[] {
  const found: string[] = [];
  const layers = ['src/core', 'src/shared'].map((d) => path.join(root, d)).filter(existsSync);
  const files = layers.flatMap((d) =>
    readdirSync(d, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(d, f)),
  );
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) =>
        found.push(`tsconfig.json: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`),
    },
  );
  const libs = config?.options.lib ?? [];
  if (!config?.options.lib) found.push('tsconfig.json: no "lib" (the default lib holds the DOM)');
  for (const lib of libs.filter((l) => /dom/i.test(l))) found.push(`tsconfig.json: lib ${lib}`);
  const compiled = new Set((config?.fileNames ?? []).map((f) => path.resolve(f)));
  for (const f of files) {
    const rel = path.relative(root, f).split(path.sep).join('/');
    if (!compiled.has(path.resolve(f))) found.push(`${rel}: not compiled by tsconfig.json`);
    if (/^\s*\/\/\/\s*<reference\s+lib\s*=\s*["']dom/im.test(readFileSync(f, 'utf8')))
      found.push(`${rel}: /// <reference lib="dom" />`);
  }
  for (const d of layers)
    for (const f of readdirSync(d, { recursive: true, encoding: 'utf8' }).filter((f) => /tsconfig.*\.json$/.test(f)))
      found.push(`${path.relative(root, path.join(d, f))}: a tsconfig of its own`);
  return found;
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
}

describe('architecture: what may import what', () => {
  let real: ICruiseResult;
  before(async () => {
    real = await cruiseTree(repoRoot, ['src', 'webview']);
  });

  it('src/ and webview/ break no rule of .dependency-cruiser.cjs (no import cycle, core is plain Node, …)', () => {
    assert.ok(real.modules.filter((m) => m.source.startsWith('src/core/')).length > 50, 'cruised the core sources');
    // The vscode rules must match what `vscode` resolves to here, or they would never fire.
    const vscodeImport = real.modules
      .find((m) => m.source === 'src/extension/extension.ts')
      ?.dependencies.find((d) => d.module === 'vscode');
    const config = require(repoPath('.dependency-cruiser.cjs')) as {
      forbidden: { name: string; to: { path: string[] } }[];
    };
    const patterns = config.forbidden.find((r) => r.name === 'core-is-plain-node')!.to.path;
    assert.ok(
      vscodeImport && patterns.some((p) => new RegExp(p).test(vscodeImport.resolved)),
      'the vscode rule sees vscode',
    );
    const errors = errorsOf(real);
    assert.ok(errors.length === 0, `${errors.length} import(s) break a rule:\n${errors.join('\n')}`);
  });

  it(`the folders of ${FOLDER_ROOTS.join(' and of ')} import each other in one direction only`, () => {
    const cycles = folderCyclesOf(real, FOLDER_ROOTS);
    assert.ok(cycles === '', cycles);
  });

  it('src/core and src/shared compile without the DOM', () => {
    const found = domUse(repoRoot);
    assert.ok(found.length === 0, found.join('\n'));
  });

  it('folderCycles: one node per folder under the root, root files on their own, outside ignored', () => {
    const m = (source: string, ...to: string[]): CruisedModule => ({
      source,
      dependencies: to.map((resolved) => ({ resolved })),
    });
    assert.strictEqual(folderOf('src/core/a/deep/x.ts', 'src/core'), 'src/core/a');
    assert.strictEqual(folderOf('src/core/errors.ts', 'src/core'), 'src/core/errors.ts');
    assert.strictEqual(folderOf('src/extension/x.ts', 'src/core'), undefined);
    const modules = [
      m('src/core/a/one.ts', 'src/core/b/two.ts', 'src/core/errors.ts'),
      m('src/core/b/two.ts', 'src/core/c/three.ts'),
      m('src/core/c/three.ts', 'src/core/a/deep/four.ts'),
      m('src/core/a/deep/four.ts', 'src/core/a/one.ts'), // inside one folder: not a folder cycle
      m('src/core/errors.ts', 'src/core/d/x.ts'),
      m('src/core/d/x.ts', 'src/extension/y.ts'),
      m('src/extension/y.ts', 'src/core/d/x.ts'), // outside the root
    ];
    assert.deepStrictEqual(folderCycles(modules, 'src/core'), [
      {
        folders: ['src/core/a', 'src/core/b', 'src/core/c'],
        edges: [
          { from: 'src/core/a', to: 'src/core/b', imports: ['src/core/a/one.ts → src/core/b/two.ts'] },
          { from: 'src/core/b', to: 'src/core/c', imports: ['src/core/b/two.ts → src/core/c/three.ts'] },
          { from: 'src/core/c', to: 'src/core/a', imports: ['src/core/c/three.ts → src/core/a/deep/four.ts'] },
        ],
      },
    ]);
    // A file in the root is a node like a folder: errors.ts ↔ d is a cycle once d imports it back.
    modules.push(m('src/core/d/z.ts', 'src/core/errors.ts'));
    assert.deepStrictEqual(
      folderCycles(modules, 'src/core').map((c) => c.folders),
      [
        ['src/core/a', 'src/core/b', 'src/core/c'],
        ['src/core/d', 'src/core/errors.ts'],
      ],
    );
    // The root is a parameter: under src/, core and extension are the folders.
    assert.deepStrictEqual(
      folderCycles(modules, 'src').map((c) => c.folders),
      [['src/core', 'src/extension']],
    );
  });

  it('fails on a tree that breaks each rule, naming each offending import', async () => {
    const dir = tempDir('modelreg-depcruise-');
    writeTree(dir, {
      // Two modules importing each other; one way is type-only, which counts.
      'src/extension/a.ts': "import { b } from './b';\nexport interface A { n: number }\nexport const a = b + 1;\n",
      'src/extension/b.ts':
        "import type { A } from './a';\nexport const b = 1;\nexport const sample: A | undefined = undefined;\n",
      // Two core folders importing each other, with no module cycle.
      'src/core/x/one.ts': "import { two } from '../y/two';\nexport const one = two;\n",
      'src/core/x/three.ts': 'export const three = 3;\n',
      'src/core/y/two.ts': "import { three } from '../x/three';\nexport const two = three;\n",
      // Core reaching up or out.
      'src/core/z/host.ts': "import * as vscode from 'vscode';\nexport const host = vscode;\n",
      'src/core/z/lazy.ts': "export const later = () => require('vscode');\n",
      'src/core/z/dynamic.ts': "export const later = () => import('vscode');\n",
      'src/core/z/host2.ts': "import { a } from '../../extension/a';\nexport const host = a;\n",
      // The CLI runs without VS Code.
      'src/cli/main.ts': "import { a } from '../extension/a';\nexport const cli = a;\n",
      'src/core/z/ui.ts': "import { panel } from '../../shared/panel';\nexport const ui = panel;\n",
      'src/core/z/barrel.ts': "import { one } from '..';\nexport const viaBarrel = one;\n",
      'src/core/index.ts': "export { one } from './x/one';\n",
      // Shared reaching into the host, a page reaching past shared.
      'src/shared/panel.ts': "import { window } from 'vscode';\nexport const panel = window;\n",
      'webview/page.ts': "import { two } from '../src/core/y/two';\nexport const page = two;\n",
      // The DOM for core.
      'src/core/z/dom.ts': '/// <reference lib="dom" />\nexport const title = () => document.title;\n',
      'tsconfig.json': JSON.stringify({ compilerOptions: { lib: ['ES2022', 'DOM'] }, include: ['src/core/**/*.ts'] }),
    });
    const r = await cruiseTree(dir, ['src', 'webview']);
    const errors = errorsOf(r);
    const expected = [
      'no-circular: src/extension/a.ts → src/extension/b.ts (cycle: src/extension/a.ts → src/extension/b.ts → src/extension/a.ts)',
      'core-is-plain-node: src/core/z/host.ts → vscode',
      'core-is-plain-node: src/core/z/lazy.ts → vscode',
      'core-is-plain-node: src/core/z/dynamic.ts → vscode',
      'core-is-plain-node: src/core/z/host2.ts → src/extension/a.ts',
      'cli-and-server-are-plain-node: src/cli/main.ts → src/extension/a.ts',
      'core-is-plain-node: src/core/z/ui.ts → src/shared/panel.ts',
      'core-not-through-its-barrel: src/core/z/barrel.ts → src/core/index.ts',
      'shared-has-no-host: src/shared/panel.ts → vscode',
      'webview-through-shared: webview/page.ts → src/core/y/two.ts',
    ];
    for (const e of expected) assert.ok(errors.includes(e), `reported: ${e}\n(all: ${errors.join('\n')})`);
    assert.strictEqual(
      folderCyclesOf(r, ['src/core']),
      [
        'folder cycle: src/core/x ↔ src/core/y',
        '  src/core/x → src/core/y (1 import):',
        '    src/core/x/one.ts → src/core/y/two.ts',
        '  src/core/y → src/core/x (1 import):',
        '    src/core/y/two.ts → src/core/x/three.ts',
      ].join('\n'),
    );
    assert.deepStrictEqual(domUse(dir), [
      'tsconfig.json: lib lib.dom.d.ts',
      'src/core/z/dom.ts: /// <reference lib="dom" />',
      'src/shared/panel.ts: not compiled by tsconfig.json',
    ]);
  });
});
