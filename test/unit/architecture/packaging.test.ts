// The .vsix ships what .vscodeignore lets through: every bundle esbuild.mjs writes must be let through,
// or a feature that starts it (the training runner, the onnxruntime host) fails only once installed.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import { repoPath } from '../helpers/paths';

describe('packaging (.vscodeignore)', () => {
  it('lets every bundle of esbuild.mjs into the package', () => {
    const build = readFileSync(repoPath('esbuild.mjs'), 'utf8');
    const bundles = [...build.matchAll(/outfile: '(dist\/[\w.-]+\.js)'/g)].map((m) => m[1]);
    assert.ok(bundles.length >= 6, `found the bundles: ${bundles.join(', ')}`);
    const shipped = new Set(
      readFileSync(repoPath('.vscodeignore'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('!'))
        .map((l) => l.slice(1).trim()),
    );
    assert.deepStrictEqual(
      bundles.filter((b) => !shipped.has(b)),
      [],
      'bundles left out of the .vsix',
    );
  });
});
