import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { escapeControl } from '../../../src/shared/format';
import { escapeMarkdown, modelTooltip, versionTooltip } from '../../../src/extension/registry/tooltips';
import { VersionRecord } from '../../../src/core/registry/types';
import { safetensorsBytes } from '../helpers/makeWeights';
import { git, makeGitRepo, tempDir } from '../helpers/tmp';
import { CLI_JS } from '../helpers/paths';

const cli = CLI_JS;

function modelreg(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** What input can put on a terminal: raw ESC, CR, a newline starting a forged line. */
function assertNoRawControl(text: string): void {
  assert.doesNotMatch(
    text.replace(/\n$/, ''),
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/,
    `raw control character in ${JSON.stringify(text)}`,
  );
  assert.doesNotMatch(text, /^modelreg: all good/m, 'a file name forged a line');
}

describe('CLI output escapes what came from input', () => {
  const evil = 'w\nmodelreg: all good\x1b[2J\x1b[31mred\r\u202eexe.safetensors';

  it('file names, tensor names and commit subjects are printed escaped by show, list and errors', () => {
    const ws = tempDir();
    makeGitRepo(ws, { 'train.py': 'x\n' });
    git(ws, 'commit', '-q', '--allow-empty', '-m', 'subject\x1b[31m with an escape');
    const out = path.join(ws, 'out');
    mkdirSync(out);
    writeFileSync(
      path.join(out, evil),
      safetensorsBytes([{ name: 'tensor\x1b]0;title\x07\nmodelreg: all good', dtype: 'F32', shape: [2] }]),
    );
    const imported = modelreg(ws, 'import', 'out', '--model', 'm');
    assert.strictEqual(imported.code, 0, imported.err);
    const shown = modelreg(ws, 'show', 'm@v1');
    assert.strictEqual(shown.code, 0, shown.err);
    for (const line of shown.out.split('\n')) assertNoRawControl(line);
    assert.match(
      shown.out,
      /w\\nmodelreg: all good\\e\[2J\\e\[31mred\\r\\u202eexe\.safetensors/,
      'the name is there, escaped',
    );
    assert.match(shown.out, /subject\\e\[31m with an escape/);
    assert.match(modelreg(ws, 'list').out, /^m\t1 version\t/m, 'tabs between columns stay tabs');

    writeFileSync(path.join(out, evil), Buffer.from([1, 2, 3])); // now corrupt: the error names it
    const refused = modelreg(ws, 'import', path.join('out', evil));
    assert.strictEqual(refused.code, 2);
    assertNoRawControl(refused.err);
    assert.strictEqual(refused.err.trimEnd().split('\n').length, 1, refused.err);
    assert.match(refused.err, /^modelreg: .*w\\nmodelreg: all good\\e\[2J/);
  });

  it('escapeControl shows every control character, DEL, C1 and bidi override visibly', () => {
    assert.strictEqual(escapeControl('a\nb\r\tc\x1b[0m\x7f\x9b\u202e'), 'a\\nb\\r\\tc\\e[0m\\u007f\\u009b\\u202e');
    assert.strictEqual(escapeControl('plain – ünïcode ✓'), 'plain – ünïcode ✓');
  });
});

describe('tree tooltips show descriptions, tags and commit subjects as text', () => {
  const version = {
    ref: 'm@v1',
    status: 'ready',
    format: 'onnx',
    framework: null,
    parameterCount: 10,
    sizeBytes: 100,
    fileCount: 1,
    git: {
      commit: 'abcdef0123456789',
      dirty: false,
      subject: '![x](https://evil.example/track.png) [run](command:workbench.action.terminal.new)',
      branch: 'main',
      remote: null,
      author: 'a',
      date: 'd',
      root: '/r',
    },
    createdAt: '2026-01-01',
    aliases: [],
    tags: ['<img src=x onerror=alert(1)>'],
    archivedAt: null,
    description: '# Big\n[click me](command:modelRegistry.gc)',
    details: {},
  } as unknown as VersionRecord;

  it('no link, image, heading or HTML survives from input', () => {
    const md = versionTooltip(version);
    assert.doesNotMatch(md, /\]\(/, 'a Markdown link or image');
    assert.doesNotMatch(md, /(^|[^\\])<img/, 'raw HTML');
    assert.doesNotMatch(md, /^# /m, 'a heading');
    assert.match(md, /\\!\\\[x\\\]\\\(https\\:\/\/evil\\\.example\/track\\\.png\\\)/, 'the subject is kept, escaped');
    const model = modelTooltip({ name: 'm', description: '[a](command:x)', tags: ['**b**'], updatedAt: 'now' });
    assert.doesNotMatch(model, /\]\(|\*\*b\*\*/);
    assert.strictEqual(escapeMarkdown('a_b*c'), 'a\\_b\\*c');
  });
});
