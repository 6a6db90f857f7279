import * as assert from 'assert';
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { repoRoot } from '../helpers/paths';

const repo = repoRoot;

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

describe('layering', () => {
  it('src/core never imports vscode (the CLI and tests run it in plain Node)', () => {
    const offenders = sources(path.join(repo, 'src/core')).filter((f) =>
      /(from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/.test(
        readFileSync(f, 'utf8'),
      ),
    );
    assert.ok(sources(path.join(repo, 'src/core')).length > 5, 'found the core sources');
    assert.deepStrictEqual(offenders, []);
  });

  it('src/core and src/cli never import from src/extension', () => {
    const files = [...sources(path.join(repo, 'src/core')), ...sources(path.join(repo, 'src/cli'))];
    const offenders = files.filter((f) => /from\s+['"][./]*\/extension\//.test(readFileSync(f, 'utf8')));
    assert.deepStrictEqual(offenders, []);
  });
});
